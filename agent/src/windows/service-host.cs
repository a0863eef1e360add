// The Windows service that keeps the Drydock agent running. Compiled on the host by install-agent.ps1
// (Windows PowerShell 5.1 Add-Type, whose compiler takes C# 5: no string interpolation, no ?., no nameof).
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.ServiceProcess;
using System.Text;
using System.Threading;

namespace Drydock
{
    public sealed class HostOptions
    {
        public string ServiceName = "DrydockAgent";
        public string Node;
        public string Entry;
        public string EnvFile;
        public string LogFile;
        public string WorkDir;
        public bool Console;

        public static HostOptions Parse(string[] args)
        {
            HostOptions o = new HostOptions();
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                switch (name)
                {
                    case "--console": o.Console = true; break;
                    case "--service-name": o.ServiceName = Value(args, ref i); break;
                    case "--node": o.Node = Value(args, ref i); break;
                    case "--entry": o.Entry = Value(args, ref i); break;
                    case "--env-file": o.EnvFile = Value(args, ref i); break;
                    case "--log": o.LogFile = Value(args, ref i); break;
                    case "--workdir": o.WorkDir = Value(args, ref i); break;
                    default: throw new ArgumentException("unknown option " + name + "; the options are --service-name, --node, --entry, --env-file, --log, --workdir, --console");
                }
            }
            if (o.Node == null || o.Entry == null || o.EnvFile == null || o.LogFile == null || o.WorkDir == null)
            {
                throw new ArgumentException("--node, --entry, --env-file, --log and --workdir are all required; run install-agent.ps1 again to register the service with them");
            }
            return o;
        }

        static string Value(string[] args, ref int i)
        {
            if (i + 1 >= args.Length) throw new ArgumentException(args[i] + " needs a value");
            return args[++i];
        }
    }

    public sealed class AgentService : ServiceBase
    {
        // The agent's exit codes (agent/src/main.ts): restarting into the same refusal would only repeat it.
        public const int ExitTokenRefused = 77;
        public const int ExitBadConfig = 78;
        // ERROR_EXCEPTION_IN_SERVICE: a non-zero exit makes the SCM apply the service's failure actions.
        const int ExitCannotStart = 1064;
        const int FirstBackoffMs = 1000;
        const int MaxBackoffMs = 60000;
        // A run this long counts as healthy: the next crash starts the backoff from the beginning again.
        const int StableRunMs = 60000;
        const long MaxLogBytes = 10L * 1024 * 1024;

        readonly HostOptions options;
        readonly ManualResetEvent stopping = new ManualResetEvent(false);
        readonly object gate = new object();
        Process node;
        Thread supervisor;
        StreamWriter log;
        int result;

        public AgentService(HostOptions options)
        {
            this.options = options;
            ServiceName = options.ServiceName;
            CanStop = true;
            CanShutdown = true;
            AutoLog = true;
        }

        public static int Main(string[] args)
        {
            HostOptions options;
            try
            {
                options = HostOptions.Parse(args);
            }
            catch (ArgumentException e)
            {
                System.Console.Error.WriteLine("DrydockAgentService: " + e.Message);
                return 2;
            }
            AgentService service = new AgentService(options);
            if (options.Console) return service.RunInConsole();
            ServiceBase.Run(service);
            return service.ExitCode;
        }

        /// <summary>Runs in the foreground until Ctrl-C or until the agent stops for good; returns the agent's last exit code.</summary>
        public int RunInConsole()
        {
            System.Console.CancelKeyPress += delegate(object sender, ConsoleCancelEventArgs e)
            {
                e.Cancel = true;
                Log("Ctrl-C: stopping the agent");
                RequestStop();
            };
            OpenLog();
            Supervise();
            CloseLog();
            return result;
        }

        protected override void OnStart(string[] args)
        {
            OpenLog();
            supervisor = new Thread(Supervise);
            supervisor.IsBackground = true;
            supervisor.Start();
        }

        protected override void OnStop()
        {
            try
            {
                // Ending the tree and waiting for the supervisor can outlast the SCM's default 20 s on a busy host.
                RequestAdditionalTime(30000);
            }
            catch (InvalidOperationException)
            {
                // Not stopping on the SCM's request: there is no deadline to extend.
            }
            RequestStop();
            if (supervisor != null && Thread.CurrentThread != supervisor && !supervisor.Join(20000)) Log("the agent did not stop within 20 s");
            CloseLog();
        }

        protected override void OnShutdown()
        {
            OnStop();
        }

        void RequestStop()
        {
            stopping.Set();
            Process current;
            lock (gate) current = node;
            if (current != null) KillTree(current);
        }

        void Supervise()
        {
            int backoff = FirstBackoffMs;
            while (!stopping.WaitOne(0))
            {
                Dictionary<string, string> environment;
                Process p;
                CountdownEvent drained;
                try
                {
                    environment = ReadEnvFile(options.EnvFile);
                    p = StartNode(environment, drained = new CountdownEvent(2));
                }
                catch (Exception e)
                {
                    if (e is Win32Exception || e is IOException || e is UnauthorizedAccessException || e is FormatException)
                    {
                        Log("cannot start the agent: " + e.Message + "; fix it and start the service again (Start-Service " + options.ServiceName + ")");
                        result = 1;
                        Finish(ExitCannotStart);
                        return;
                    }
                    throw;
                }
                DateTime started = DateTime.UtcNow;
                lock (gate) node = p;
                // A stop that came in while node was starting found no process to end: end it now.
                if (stopping.WaitOne(0)) KillTree(p);
                // WaitForExit() alone would also wait for the pipes, which a script the agent started may still hold.
                while (!p.WaitForExit(1000)) { }
                // Its last lines say why it exited: let them reach the log before the line that says it did.
                drained.Wait(2000);
                int code = p.ExitCode;
                lock (gate) node = null;
                result = code;
                if (stopping.WaitOne(0))
                {
                    Log("the agent stopped (exit code " + code + ")");
                    return;
                }
                if (code == ExitTokenRefused || code == ExitBadConfig)
                {
                    string why = code == ExitTokenRefused
                        ? "the Drydock API refused this agent's token or registration: put a new token (token in the config file) or registration secret in place"
                        : "the agent's settings are invalid: fix the config file (the lines above say what is wrong)";
                    Log("the agent exited with code " + code + ": " + why + ", then start the service again; not restarting it until then");
                    WriteEvent("Drydock agent stopped: " + why + ". See " + options.LogFile + ".", EventLogEntryType.Error);
                    Finish(0);
                    return;
                }
                if ((DateTime.UtcNow - started).TotalMilliseconds >= StableRunMs) backoff = FirstBackoffMs;
                Log("the agent exited unexpectedly with code " + code + "; starting it again in " + (backoff / 1000) + " s");
                if (stopping.WaitOne(backoff)) return;
                backoff = Math.Min(backoff * 2, MaxBackoffMs);
            }
        }

        /// <summary>Ends the service (or the console run) from the supervisor, with the exit code the SCM sees.</summary>
        void Finish(int serviceExitCode)
        {
            stopping.Set();
            if (options.Console) return;
            ExitCode = serviceExitCode;
            // Stop() from this thread runs OnStop here too; OnStop does not wait for the thread it runs on.
            ThreadPool.QueueUserWorkItem(delegate { Stop(); });
        }

        /// <summary>NAME=value lines, as the Linux agent.env; blank lines and lines starting with # are skipped.</summary>
        public static Dictionary<string, string> ReadEnvFile(string file)
        {
            Dictionary<string, string> vars = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string[] lines = File.ReadAllLines(file, new UTF8Encoding(false));
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                if (line.Trim().Length == 0 || line.TrimStart().StartsWith("#")) continue;
                int eq = line.IndexOf('=');
                if (eq <= 0) throw new FormatException(file + " line " + (i + 1) + " is not NAME=value");
                vars[line.Substring(0, eq).Trim()] = line.Substring(eq + 1);
            }
            return vars;
        }

        Process StartNode(Dictionary<string, string> environment, CountdownEvent drained)
        {
            ProcessStartInfo info = new ProcessStartInfo(options.Node, Quote(options.Entry));
            info.WorkingDirectory = options.WorkDir;
            info.UseShellExecute = false;
            info.CreateNoWindow = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.StandardOutputEncoding = Encoding.UTF8;
            info.StandardErrorEncoding = Encoding.UTF8;
            foreach (KeyValuePair<string, string> v in environment) info.EnvironmentVariables[v.Key] = v.Value;
            Process p = new Process();
            p.StartInfo = info;
            DataReceivedEventHandler onLine = delegate(object sender, DataReceivedEventArgs e)
            {
                if (e.Data != null) Write(e.Data);
                else drained.Signal();
            };
            p.OutputDataReceived += onLine;
            p.ErrorDataReceived += onLine;
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            Log("started the agent: " + options.Node + " " + info.Arguments + " (pid " + p.Id + ")");
            return p;
        }

        /// <summary>The agent and every script it started: node alone would leave the scripts running.</summary>
        void KillTree(Process p)
        {
            int pid;
            try
            {
                if (p.HasExited) return;
                pid = p.Id;
            }
            catch (InvalidOperationException)
            {
                return;
            }
            try
            {
                ProcessStartInfo info = new ProcessStartInfo("taskkill.exe", "/T /F /PID " + pid);
                info.UseShellExecute = false;
                info.CreateNoWindow = true;
                using (Process taskkill = Process.Start(info))
                {
                    if (taskkill.WaitForExit(10000) && taskkill.ExitCode == 0) return;
                }
            }
            catch (Win32Exception)
            {
                // No taskkill.exe (not Windows): end node itself below.
            }
            try
            {
                p.Kill();
            }
            catch (InvalidOperationException)
            {
                // It has exited meanwhile.
            }
            catch (Win32Exception)
            {
                // It is exiting.
            }
        }

        static string Quote(string path)
        {
            return "\"" + path + "\"";
        }

        void OpenLog()
        {
            lock (gate)
            {
                string dir = Path.GetDirectoryName(options.LogFile);
                if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
                log = OpenLogFile(options.LogFile);
            }
        }

        void CloseLog()
        {
            lock (gate)
            {
                if (log != null) log.Dispose();
                log = null;
            }
        }

        void Log(string message)
        {
            Write("[service] " + message);
        }

        void Write(string line)
        {
            string stamped = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") + " " + line;
            lock (gate)
            {
                if (options.Console) System.Console.WriteLine(stamped);
                if (log == null) return;
                try
                {
                    if (log.BaseStream.Length > MaxLogBytes) Rotate();
                    log.WriteLine(stamped);
                }
                catch (IOException)
                {
                    // A full disk must not stop the agent; its lines are lost until there is room again.
                }
            }
        }

        /// <summary>Keeps one previous file (agent.log.1): the log cannot fill the disk.</summary>
        void Rotate()
        {
            log.Dispose();
            log = null;
            string previous = options.LogFile + ".1";
            try
            {
                if (File.Exists(previous)) File.Delete(previous);
                File.Move(options.LogFile, previous);
            }
            catch (UnauthorizedAccessException)
            {
                // Someone holds agent.log.1 open: keep writing to agent.log past the limit rather than lose lines.
            }
            catch (IOException)
            {
                // As above.
            }
            log = OpenLogFile(options.LogFile);
        }

        static StreamWriter OpenLogFile(string file)
        {
            // Shared read: an operator can Get-Content -Wait the log while the service writes it.
            StreamWriter w = new StreamWriter(new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete), new UTF8Encoding(false));
            w.AutoFlush = true;
            return w;
        }

        void WriteEvent(string message, EventLogEntryType type)
        {
            if (options.Console) return;
            try
            {
                EventLog.WriteEntry(message, type);
            }
            catch (Exception)
            {
                // The event log is a courtesy; the log file has the same line.
            }
        }
    }
}
