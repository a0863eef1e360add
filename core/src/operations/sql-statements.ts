import { PLACEHOLDER } from '../placeholder.ts';

export type SqlEngine = 'postgresql' | 'mysql';
export type BindValue = string | number | boolean;

export interface SqlSegment {
  kind: 'code' | 'quoted' | 'comment';
  text: string;
}

export class SqlScanError extends Error {
  override readonly name = 'SqlScanError';
}

const IDENTIFIER_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

function isIdentifierChar(ch: string | undefined): boolean {
  return ch !== undefined && IDENTIFIER_CHAR.test(ch);
}

/**
 * Cuts a query into code, quoted text and comments, as the engine's own lexer would: '' and "" escapes,
 * backslash escapes (MySQL strings, PostgreSQL E'…'), `…` identifiers (MySQL), $tag$…$tag$ (PostgreSQL),
 * -- and /* *\/ comments (nested in PostgreSQL), # comments (MySQL). The texts joined give the query back.
 */
export function sqlSegments(sql: string, engine: SqlEngine): SqlSegment[] {
  const segments: SqlSegment[] = [];
  let code = '';
  const push = (kind: 'quoted' | 'comment', text: string) => {
    if (code) segments.push({ kind: 'code', text: code });
    code = '';
    segments.push({ kind, text });
  };
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    const dashComment = ch === '-' && next === '-' && (engine === 'postgresql' || i + 2 >= n || /\s/.test(sql[i + 2]!));
    if (dashComment || (ch === '#' && engine === 'mysql')) {
      const newline = sql.indexOf('\n', i);
      const stop = newline === -1 ? n : newline;
      push('comment', sql.slice(i, stop));
      i = stop;
      continue;
    }
    if (ch === '/' && next === '*') {
      // MySQL runs the body of /*! … */ and /*M! … */, so it is read as code.
      if (engine === 'mysql' && (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!'))) {
        code += ch;
        i++;
        continue;
      }
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (engine === 'postgresql' && sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else {
          j++;
        }
      }
      if (depth > 0) throw new SqlScanError('the query has a /* comment that is never closed');
      push('comment', sql.slice(i, j));
      i = j;
      continue;
    }
    if (ch === "'" || ch === '"' || (ch === '`' && engine === 'mysql')) {
      const eString = engine === 'postgresql' && ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !isIdentifierChar(sql[i - 2]);
      const backslashEscapes = engine === 'mysql' ? ch !== '`' : eString;
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new SqlScanError(`the query has a ${ch} quote that is never closed`);
        const c = sql[j];
        if (backslashEscapes && c === '\\') {
          j += 2;
        } else if (c === ch && sql[j + 1] === ch) {
          j += 2;
        } else if (c === ch) {
          j++;
          break;
        } else {
          j++;
        }
      }
      push('quoted', sql.slice(i, j));
      i = j;
      continue;
    }
    if (engine === 'postgresql' && ch === '$' && !isIdentifierChar(sql[i - 1])) {
      const tag = DOLLAR_TAG.exec(sql.slice(i))?.[0];
      if (tag !== undefined) {
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) throw new SqlScanError(`the query has a ${tag} quote that is never closed`);
        push('quoted', sql.slice(i, end + tag.length));
        i = end + tag.length;
        continue;
      }
    }
    code += ch;
    i++;
  }
  if (code) segments.push({ kind: 'code', text: code });
  return segments;
}

/** The statements of a query, split at semicolons outside quotes and comments; empty ones are dropped. */
export function sqlStatements(sql: string, engine: SqlEngine): string[] {
  const statements: string[] = [];
  let current = '';
  let substantive = false;
  for (const segment of sqlSegments(sql, engine)) {
    if (segment.kind !== 'code') {
      current += segment.text;
      if (segment.kind === 'quoted') substantive = true;
      continue;
    }
    segment.text.split(';').forEach((part, index) => {
      if (index > 0) {
        if (substantive) statements.push(current.trim());
        current = '';
        substantive = false;
      }
      current += part;
      if (part.trim() !== '') substantive = true;
    });
  }
  if (substantive) statements.push(current.trim());
  return statements;
}

/** The `{{param}}` placeholders in the query's code (`code`) or inside quoted text (`quoted`), where a bound value cannot go. */
export function sqlPlaceholders(sql: string, engine: SqlEngine, where: 'code' | 'quoted'): string[] {
  return sqlSegments(sql, engine)
    .filter((s) => s.kind === where)
    .flatMap((s) => [...s.text.matchAll(new RegExp(PLACEHOLDER.source, 'g'))].map((m) => m[0]));
}

/**
 * Turns `{{param}}` placeholders in the query's code into the engine's bind markers ($1… for PostgreSQL, one
 * per name; ? for MySQL, one per occurrence), so a value is sent as data and never becomes SQL.
 */
export function bindPlaceholders(sql: string, engine: SqlEngine, valueOf: (name: string) => BindValue): { query: string; bind: BindValue[] } {
  const bind: BindValue[] = [];
  const numbers = new Map<string, number>();
  const query = sqlSegments(sql, engine)
    .map((segment) =>
      segment.kind !== 'code'
        ? segment.text
        : segment.text.replace(new RegExp(PLACEHOLDER.source, 'g'), (_match, name: string) => {
            if (engine === 'mysql') {
              bind.push(valueOf(name));
              return '?';
            }
            let number = numbers.get(name);
            if (number === undefined) {
              bind.push(valueOf(name));
              number = bind.length;
              numbers.set(name, number);
            }
            return `$${number}`;
          }),
    )
    .join('');
  return { query, bind };
}
