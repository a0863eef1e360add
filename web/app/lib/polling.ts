import { useEffect } from 'react';
import { useRevalidator } from 'react-router';

/** Reloads the page's data every `ms` while `active` (a sync is running), and only while the tab is visible. */
export function useRevalidateWhile(active: boolean, ms = 2_000): void {
  const { revalidate } = useRevalidator();
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') void revalidate();
    }, ms);
    return () => clearInterval(id);
  }, [active, ms, revalidate]);
}
