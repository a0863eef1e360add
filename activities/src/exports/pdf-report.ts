import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PDFDocument from 'pdfkit';

export interface PdfBar {
  label: string;
  value: number;
  /** A CSS colour; default Drydock's blue. */
  color?: string;
}

export interface PdfChart {
  title: string;
  bars: PdfBar[];
  /** After each value: `%`, ` runs`, ` s`. */
  unit?: string;
}

export interface PdfTable {
  title: string;
  columns: { header: string; /** Relative width; default 1. */ weight?: number; align?: 'left' | 'right' }[];
  /** Rows of cell text, read as the table is drawn: a table of any length streams onto as many pages as it needs. */
  rows: AsyncIterable<string[]> | Iterable<string[]>;
}

export interface PdfReport {
  title: string;
  subtitle?: string;
  generatedAt: Date;
  /** The figures at the top: runs, success rate, p95 duration. */
  summary: { label: string; value: string }[];
  charts?: PdfChart[];
  tables: PdfTable[];
}

const INK = '#1f2933';
const MUTED = '#616e7c';
const RULE = '#cbd2d9';
const STRIPE = '#f5f7fa';
const BAR = '#2f6fde';
const ROW = 16;
/** pdfkit writes a page out when the next begins: past this much unread output, drawing waits for the reader. */
const UNREAD_LIMIT = 64 * 1024;

/**
 * The standard PDF fonts (Helvetica) carry Windows-1252's characters only, and embedding a font would need one on
 * every machine; other characters are printed as "?" so the report is never garbled.
 */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
export function pdfText(text: string): string {
  let out = '';
  for (const ch of text.replace(/[\r\n\t]+/g, ' ')) {
    const code = ch.codePointAt(0)!;
    out += (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch) ? ch : '?';
  }
  return out;
}

/** The chart's scale: a round step (1, 2, 2.5 or 5 times a power of ten) that about four ticks cover `max` with. */
function scaleFor(max: number): { step: number; top: number } {
  if (max <= 0) return { step: 1, top: 1 };
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * power).find((s) => s >= raw)!;
  return { step, top: step * Math.ceil(max / step) };
}

function formatValue(value: number, unit = ''): string {
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text}${unit}`;
}

/**
 * Writes the report as a PDF to `out`: the summary, each chart as a horizontal bar chart drawn with vector shapes,
 * and each table with its header repeated on every page it runs onto. Only the page being drawn is held in memory.
 */
export async function writePdfReport(report: PdfReport, out: Writable): Promise<void> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: { Title: pdfText(report.title), Producer: 'Drydock', Creator: 'Drydock', CreationDate: report.generatedAt },
  });
  const written = pipeline(doc, out);
  written.catch(() => undefined);
  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  let pageNumber = 1;

  const footer = () => {
    const margin = doc.page.margins.bottom;
    // Text below the bottom margin would make pdfkit start a page of its own.
    doc.page.margins.bottom = 0;
    doc.font('Helvetica').fontSize(8).fillColor(MUTED);
    doc.text(`${pdfText(report.title)} - page ${pageNumber}`, left, doc.page.height - margin + 16, { width, align: 'right', lineBreak: false });
    doc.page.margins.bottom = margin;
  };
  const newPage = async () => {
    doc.addPage();
    pageNumber++;
    footer();
    doc.x = left;
    doc.y = doc.page.margins.top;
    // The page before is now in the output: wait while the reader is far behind.
    while (doc.readableLength > UNREAD_LIMIT) await Promise.race([once(doc, 'data'), written]);
  };
  /** Text cut with an ellipsis to one line of `max` points in the current font. */
  const fit = (text: string, max: number): string => {
    const clean = pdfText(text);
    if (doc.widthOfString(clean) <= max) return clean;
    let low = 0;
    let high = clean.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (doc.widthOfString(`${clean.slice(0, mid)}…`) <= max) low = mid;
      else high = mid - 1;
    }
    return `${clean.slice(0, low)}…`;
  };
  const room = async (height: number) => {
    if (doc.y + height > bottom()) await newPage();
  };

  footer();
  doc.x = left;
  doc.y = doc.page.margins.top;
  doc.font('Helvetica-Bold').fontSize(20).fillColor(INK).text(pdfText(report.title), left, doc.y, { width });
  if (report.subtitle) doc.font('Helvetica').fontSize(11).fillColor(MUTED).text(pdfText(report.subtitle), { width });
  doc.font('Helvetica').fontSize(9).fillColor(MUTED).text(`Generated ${report.generatedAt.toISOString()}`, { width });
  doc.moveDown(1);

  // The summary: figures in boxes, four to a row.
  const perRow = 4;
  const boxWidth = (width - (perRow - 1) * 8) / perRow;
  for (let i = 0; i < report.summary.length; i += perRow) {
    await room(48);
    const top = doc.y;
    report.summary.slice(i, i + perRow).forEach((item, j) => {
      const x = left + j * (boxWidth + 8);
      doc.roundedRect(x, top, boxWidth, 42, 4).lineWidth(0.75).strokeColor(RULE).stroke();
      doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(fit(item.label, boxWidth - 16), x + 8, top + 7, { lineBreak: false });
      doc.font('Helvetica-Bold').fontSize(14).fillColor(INK).text(fit(item.value, boxWidth - 16), x + 8, top + 19, { lineBreak: false });
    });
    doc.y = top + 50;
  }

  for (const chart of report.charts ?? []) {
    const bars = chart.bars;
    const labelWidth = 140;
    const valueWidth = 60;
    const plot = width - labelWidth - valueWidth;
    const barHeight = 12;
    const gap = 6;
    await room(40 + Math.min(bars.length, 5) * (barHeight + gap));
    doc.moveDown(0.5);
    doc.font('Helvetica-Bold').fontSize(12).fillColor(INK).text(pdfText(chart.title), left, doc.y, { width });
    doc.moveDown(0.3);
    const { step, top: scale } = scaleFor(Math.max(0, ...bars.map((b) => b.value)));
    let top = doc.y + 4;
    const gridTop = top;
    for (const bar of bars) {
      if (top + barHeight > bottom()) {
        await newPage();
        top = doc.y + 4;
      }
      const length = Math.max(0, (bar.value / scale) * plot);
      doc.font('Helvetica').fontSize(8).fillColor(INK).text(fit(bar.label, labelWidth - 8), left, top + 2, { lineBreak: false });
      if (length > 0) doc.rect(left + labelWidth, top, length, barHeight).fill(bar.color ?? BAR);
      doc.font('Helvetica').fontSize(8).fillColor(MUTED).text(formatValue(bar.value, chart.unit), left + labelWidth + length + 4, top + 2, { width: valueWidth, lineBreak: false });
      top += barHeight + gap;
    }
    // The axis and its scale under the bars of the last page they reach.
    const axisTop = Math.max(gridTop, doc.page.margins.top);
    doc.moveTo(left + labelWidth, axisTop - 2).lineTo(left + labelWidth, top).lineWidth(0.75).strokeColor(MUTED).stroke();
    for (let tick = 0; tick <= scale + step / 2; tick += step) {
      const x = left + labelWidth + (plot * tick) / scale;
      doc.moveTo(x, top).lineTo(x, top + 3).strokeColor(MUTED).stroke();
      doc.font('Helvetica').fontSize(7).fillColor(MUTED).text(formatValue(tick, chart.unit), x - 20, top + 5, { width: 40, align: 'center', lineBreak: false });
    }
    doc.x = left;
    doc.y = top + 18;
  }

  for (const table of report.tables) {
    const weights = table.columns.map((c) => c.weight ?? 1);
    const total = weights.reduce((a, b) => a + b, 0);
    const widths = weights.map((w) => (w / total) * width);
    const header = (continued: boolean) => {
      doc.font('Helvetica-Bold').fontSize(12).fillColor(INK).text(pdfText(continued ? `${table.title} (continued)` : table.title), left, doc.y, { width });
      doc.moveDown(0.3);
      const top = doc.y;
      doc.rect(left, top, width, ROW).fill('#e4e7eb');
      let x = left;
      table.columns.forEach((c, i) => {
        doc.font('Helvetica-Bold').fontSize(8).fillColor(INK).text(fit(c.header, widths[i]! - 8), x + 4, top + 4, { width: widths[i]! - 8, align: c.align ?? 'left', lineBreak: false });
        x += widths[i]!;
      });
      doc.y = top + ROW;
    };
    await room(60);
    doc.moveDown(0.5);
    header(false);
    let index = 0;
    for await (const cells of table.rows) {
      if (doc.y + ROW > bottom()) {
        await newPage();
        header(true);
      }
      const top = doc.y;
      if (index % 2 === 1) doc.rect(left, top, width, ROW).fill(STRIPE);
      let x = left;
      table.columns.forEach((c, i) => {
        doc.font('Helvetica').fontSize(8).fillColor(INK).text(fit(cells[i] ?? '', widths[i]! - 8), x + 4, top + 4, { width: widths[i]! - 8, align: c.align ?? 'left', lineBreak: false });
        x += widths[i]!;
      });
      doc.y = top + ROW;
      index++;
    }
    if (index === 0) doc.font('Helvetica').fontSize(9).fillColor(MUTED).text('No rows.', left + 4, doc.y + 4, { width });
    doc.x = left;
    doc.y += 12;
  }

  doc.end();
  await written;
}
