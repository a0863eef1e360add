import { useCallback, useEffect, useState } from 'react';
import type { BulkHostView, BulkView } from '@drydock/core/api-schemas';
import { isFinalBulk, mergeHosts } from './bulk-view.ts';
import type { StreamState } from './live-run.ts';

export interface BulkState {
  bulk: BulkView;
  hosts: BulkHostView[];
  /** When this page last heard the execution's figures (client clock); null until hydrated. Elapsed and ETA count on from it. */
  receivedAt: number | null;
}

interface BulkEvent {
  bulk?: BulkView;
  hosts?: BulkHostView[];
}

// Host changes arriving within this window render together: a wave of 500 hosts starting costs one render.
const FLUSH_MS = 100;

/** A newer view wins, except that an execution never goes back from a final status. */
function newerBulk(current: BulkView, next: BulkView): BulkView {
  return isFinalBulk(current.status) && !isFinalBulk(next.status) ? current : next;
}

function parseEvent(text: string): BulkEvent {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    // `end` may carry the final view itself rather than `{ bulk, hosts }`.
    if ('status' in value && 'counts' in value) return { bulk: value as BulkView };
    return value as BulkEvent;
  } catch {
    return {};
  }
}

/**
 * Follows an execution's SSE stream: the snapshot that opens every connection, then the hosts that changed,
 * merged by host id. Opens only for an execution that was not final at mount; `apply` merges reloaded loader data,
 * which the page reloads itself while `degraded`: the stream lost, or not live after a few seconds.
 */
export function useLiveBulk(initial: { bulk: BulkView; hosts: BulkHostView[] }) {
  const id = initial.bulk.id;
  const [follow] = useState(() => !isFinalBulk(initial.bulk.status));
  const [state, setState] = useState<BulkState>({ bulk: initial.bulk, hosts: initial.hosts, receivedAt: null });
  const [stream, setStream] = useState<StreamState>(follow ? 'connecting' : 'ended');

  useEffect(() => setState((s) => ({ ...s, receivedAt: s.receivedAt ?? Date.now() })), []);

  const apply = useCallback((bulk: BulkView, hosts: BulkHostView[]) => {
    setState((s) => ({ bulk: newerBulk(s.bulk, bulk), hosts: mergeHosts(s.hosts, hosts), receivedAt: Date.now() }));
  }, []);

  useEffect(() => {
    if (!follow) return;
    let bulk: BulkView | null = null;
    let hosts: BulkHostView[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      timer = undefined;
      if (bulk === null && hosts.length === 0) return;
      const [nextBulk, changed] = [bulk, hosts];
      bulk = null;
      hosts = [];
      setState((s) => ({
        bulk: nextBulk ? newerBulk(s.bulk, nextBulk) : s.bulk,
        hosts: mergeHosts(s.hosts, changed),
        receivedAt: nextBulk ? Date.now() : s.receivedAt,
      }));
    };
    const take = (event: MessageEvent<string>) => {
      const data = parseEvent(event.data);
      if (data.bulk) bulk = data.bulk;
      if (data.hosts) hosts = hosts.concat(data.hosts);
      timer ??= setTimeout(flush, FLUSH_MS);
    };

    const source = new EventSource(`/api/v1/bulk/${encodeURIComponent(id)}/events`);
    source.addEventListener('open', () => setStream('live'));
    source.addEventListener('error', () => setStream(source.readyState === EventSource.CLOSED ? 'lost' : 'reconnecting'));
    source.addEventListener('snapshot', take);
    source.addEventListener('hosts', take);
    source.addEventListener('end', (event) => {
      source.close();
      take(event);
      clearTimeout(timer);
      flush();
      setStream('ended');
    });
    return () => {
      source.close();
      clearTimeout(timer);
    };
  }, [id, follow]);

  // A stream that is not live within a few seconds (a proxy that buffers, an API under load) must not freeze the page.
  const [degraded, setDegraded] = useState(false);
  useEffect(() => {
    if (stream === 'live' || stream === 'ended') {
      setDegraded(false);
      return;
    }
    const timer = setTimeout(() => setDegraded(true), stream === 'lost' ? 0 : 5_000);
    return () => clearTimeout(timer);
  }, [stream]);

  return { ...state, stream, degraded, apply };
}

/** The client's clock, ticking every second while `active`; null during SSR and the first render, so hydration agrees. */
export function useNow(active: boolean): number | null {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}
