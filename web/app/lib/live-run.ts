import type { LogLineView } from '@drydock/core/api-schemas';
import type { RunView } from '@drydock/core/api-schemas';
import { useEffect, useRef, useState } from 'react';

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'lost';

const lineKey = (l: LogLineView) => `${l.attempt}:${l.seq}`;
const before = (a: LogLineView, b: LogLineView) => a.attempt < b.attempt || (a.attempt === b.attempt && a.seq < b.seq);

// Lines arriving within this window render together, so a chatty script costs one React render per batch, not per line.
const FLUSH_MS = 40;

/**
 * Follows a run's SSE stream: appends log lines (deduplicated by attempt:seq, so the replay that opens every
 * connection is harmless) and reports each run change. Opens only for a run that was not final at mount.
 */
export function useLiveRun(runId: string, initialLines: LogLineView[], follow: boolean, onRun: (run: RunView) => void) {
  const [lines, setLines] = useState(initialLines);
  const [stream, setStream] = useState<StreamState>(follow ? 'connecting' : 'ended');
  const onRunRef = useRef(onRun);
  useEffect(() => {
    onRunRef.current = onRun;
  });

  useEffect(() => {
    if (!follow) return;
    const seen = new Set(initialLines.map(lineKey));
    let pending: LogLineView[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      setLines((prev) => {
        const merged = prev.concat(batch);
        const last = prev.at(-1);
        const first = batch[0];
        return last && first && before(first, last) ? merged.sort((a, b) => a.attempt - b.attempt || a.seq - b.seq) : merged;
      });
    };

    const source = new EventSource(`/api/v1/runs/${encodeURIComponent(runId)}/log`);
    source.addEventListener('open', () => setStream('live'));
    source.addEventListener('error', () => setStream(source.readyState === EventSource.CLOSED ? 'lost' : 'reconnecting'));
    source.addEventListener('log', (event) => {
      const line = JSON.parse(event.data) as LogLineView;
      const key = lineKey(line);
      if (seen.has(key)) return;
      seen.add(key);
      pending.push(line);
      timer ??= setTimeout(flush, FLUSH_MS);
    });
    source.addEventListener('status', (event) => onRunRef.current(JSON.parse(event.data) as RunView));
    source.addEventListener('end', (event) => {
      source.close();
      clearTimeout(timer);
      flush();
      onRunRef.current(JSON.parse(event.data) as RunView);
      setStream('ended');
    });

    return () => {
      source.close();
      clearTimeout(timer);
    };
    // initialLines seed the dedupe set once per run; later loader revalidations must not reopen the stream.
  }, [runId, follow]);

  return { lines, stream };
}

/** Milliseconds since `since`, ticking every second while `active`; null during SSR and the first render. */
export function useElapsed(since: string | null, active: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    if (!active || !since) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(id);
  }, [since, active]);
  if (!active || !since || now === null) return null;
  return Math.max(0, now - new Date(since).getTime());
}
