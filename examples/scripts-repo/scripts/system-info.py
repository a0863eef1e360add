import os
import platform

print(f"host: {platform.node()}")
print(f"os: {platform.system()} {platform.release()}")
print(f"python: {platform.python_version()}")
print(f"cpus: {os.cpu_count()}")
with open("/proc/uptime") as f:
    print(f"uptime: {float(f.read().split()[0]) / 3600:.1f} h")
