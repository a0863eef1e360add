import { useState } from 'react';
import { Button } from './ui/button.tsx';

/** Copies a text to the clipboard; browsers allow it on https and on localhost only, so the text stays selectable beside it. */
export function CopyButton({ text, label = 'Copy', testId }: { text: string; label?: string; testId?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="xs"
      testId={testId}
      aria-live="polite"
      onClick={() => {
        void navigator.clipboard.writeText(text).then(() => setCopied(true));
      }}
    >
      {copied ? 'Copied' : label}
    </Button>
  );
}
