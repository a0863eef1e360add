export { csvChunks, csvField, jsonArrayChunks, type CellValue, type CsvColumn, type CsvOptions } from './table-export.ts';
export { pdfText, writePdfReport, type PdfBar, type PdfChart, type PdfReport, type PdfTable } from './pdf-report.ts';
