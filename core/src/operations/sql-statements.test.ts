import { describe, expect, test } from 'vitest';
import { bindPlaceholders, sqlSegments, sqlStatements } from './sql-statements.ts';

describe('sqlStatements', () => {
  test.each([
    ['SELECT 1', 1],
    ['SELECT 1;', 1],
    ['  SELECT 1 ;  ;\n', 1],
    ['SELECT 1; SELECT 2', 2],
    ["SELECT ';' || 'a;b'", 1],
    ['SELECT 1 -- ; DROP TABLE jobs', 1],
    ['SELECT 1 /* ; */', 1],
    ['SELECT 1 /* outer /* nested ; */ still comment ; */', 1],
    ['SELECT "semi;colon" FROM t', 1],
    ["SELECT E'it\\'s; fine'", 1],
    ["SELECT 'a\\'; DELETE FROM t; --'", 2],
    ['SELECT $$a;b$$', 1],
    ['SELECT $body$ ; $$ ; $body$', 1],
    ['DO $$ BEGIN PERFORM 1; END $$', 1],
    ['SELECT $1::int; SELECT 2', 2],
    ['-- only a comment', 0],
  ])('PostgreSQL: %j has %i statement(s)', (sql, count) => {
    expect(sqlStatements(sql, 'postgresql')).toHaveLength(count);
  });

  test.each([
    ["SELECT 'a\\'; DELETE FROM t; --'", 1],
    ['SELECT 1 # ; DELETE FROM t', 1],
    ['SELECT `we;ird` FROM t', 1],
    ['SELECT "a;b"', 1],
    ['SELECT 1 /*! ; DELETE FROM t */', 2],
    ['SELECT 1 --; DELETE FROM t', 2],
    ['SELECT 1 -- ; DELETE FROM t', 1],
    ['SELECT $$a;b$$', 2],
  ])('MySQL: %j has %i statement(s)', (sql, count) => {
    expect(sqlStatements(sql, 'mysql')).toHaveLength(count);
  });

  test('an unclosed quote or comment is an error, not a guess', () => {
    expect(() => sqlStatements("SELECT 'open", 'postgresql')).toThrow("the query has a ' quote that is never closed");
    expect(() => sqlStatements('SELECT $x$ open', 'postgresql')).toThrow('the query has a $x$ quote that is never closed');
    expect(() => sqlStatements('SELECT 1 /* open', 'mysql')).toThrow('the query has a /* comment that is never closed');
  });

  test('the segments give the query back unchanged', () => {
    const sql = "SELECT 'a''b', \"c\", $t$x$t$ /* c */ -- d\nFROM t";
    expect(
      sqlSegments(sql, 'postgresql')
        .map((s) => s.text)
        .join(''),
    ).toBe(sql);
  });
});

describe('bindPlaceholders', () => {
  test('only placeholders in code are bound; quoted text and comments stay as written', () => {
    expect(bindPlaceholders("SELECT {{a}}, '{{a}}' -- {{a}}\n, {{b}}", 'postgresql', (n) => n.toUpperCase())).toEqual({
      query: "SELECT $1, '{{a}}' -- {{a}}\n, $2",
      bind: ['A', 'B'],
    });
  });
});
