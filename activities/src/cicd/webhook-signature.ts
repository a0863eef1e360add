import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CicdHeaders } from './provider.ts';

/** A header by name, whatever its case; the first value of a repeated one. */
export function headerValue(headers: CicdHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function hmacSha256Hex(secret: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Compares in constant time, so a forger learns nothing from how long a refusal takes. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Lengths differ: compare x with itself so the time does not depend on where they differ.
  return x.length === y.length ? timingSafeEqual(x, y) : !timingSafeEqual(x, x);
}

export function bodyText(body: string | Uint8Array): string {
  return typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
}

/** The body as a JSON object, or undefined. */
export function jsonObject(body: string | Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(bodyText(body)) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
