import type { LogLineView } from '@drydock/core/api-schemas';
import { Fragment, memo, useEffect, useRef } from 'react';
import { formatClock } from '../lib/format.ts';
import type { StreamState } from '../lib/live-run.ts';

const STREAM_CLASS: Record<LogLineView['stream'], string> = {
  stdout: 'text-slate-100',
  stderr: 'text-red-400',
  system: 'text-slate-500 italic',
};

const LogLine = memo(function LogLine({ line }: { line: LogLineView }) {
  return (
    <div data-stream={line.stream} data-attempt={line.attempt} data-seq={line.seq} className="flex gap-3 px-3 hover:bg-white/5">
      <span className="shrink-0 text-slate-500 select-none">{formatClock(line.ts)}</span>
      <span className={`min-w-0 whitespace-pre-wrap break-all ${STREAM_CLASS[line.stream]}`}>{line.line}</span>
    </div>
  );
});

const STREAM_LABEL: Record<StreamState, { text: string; dot: string }> = {
  connecting: { text: 'connecting…', dot: 'bg-slate-400' },
  live: { text: 'live', dot: 'bg-emerald-500 animate-pulse' },
  reconnecting: { text: 'reconnecting…', dot: 'bg-amber-500' },
  ended: { text: 'complete', dot: 'bg-slate-400' },
  lost: { text: 'live updates stopped: reload the page', dot: 'bg-red-500' },
};

export function RunLog({ lines, stream }: { lines: LogLineView[]; stream: StreamState }) {
  const box = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  useEffect(() => {
    const el = box.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const multipleAttempts = lines.some((l) => l.attempt !== lines[0]?.attempt);
  const label = STREAM_LABEL[stream];

  return (
    <section className="overflow-hidden rounded border border-slate-800 bg-slate-950">
      <header className="flex items-center justify-between border-b border-slate-800 px-3 py-1.5 text-xs text-slate-400">
        <span className="font-medium text-slate-300">Log</span>
        <span className="flex items-center gap-3">
          <span>{lines.length} lines · UTC</span>
          <span className="flex items-center gap-1.5" data-testid="run-log-stream" data-state={stream}>
            <span aria-hidden className={`size-2 rounded-full ${label.dot}`} />
            {label.text}
          </span>
        </span>
      </header>
      <div
        ref={box}
        data-testid="run-log"
        role="log"
        aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 32;
        }}
        className="max-h-[60vh] min-h-40 overflow-y-auto py-2 font-mono text-xs leading-5"
      >
        {lines.length === 0 ? (
          <p className="px-3 text-slate-500">{stream === 'ended' ? 'This run wrote no output.' : 'Waiting for output…'}</p>
        ) : (
          lines.map((line, i) => (
            <Fragment key={`${line.attempt}:${line.seq}`}>
              {multipleAttempts && line.attempt !== lines[i - 1]?.attempt ? (
                <div className={`mx-3 mb-1 text-slate-400 select-none ${i > 0 ? 'mt-1 border-t border-slate-700 pt-1' : ''}`}>attempt {line.attempt}</div>
              ) : null}
              <LogLine line={line} />
            </Fragment>
          ))
        )}
      </div>
    </section>
  );
}
