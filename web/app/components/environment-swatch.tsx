/** An environment's name beside its team-chosen colour, wherever a host or run shows its environment. */
export function EnvironmentSwatch({ name, colour, testId }: { name: string; colour: string | undefined; testId?: string }) {
  return (
    <span className="inline-flex items-center gap-1.5" data-testid={testId}>
      <span aria-hidden className="inline-block size-2.5 rounded-full ring-1 ring-black/10" style={{ backgroundColor: colour ?? '#94a3b8' }} />
      <span className="font-mono">{name}</span>
    </span>
  );
}
