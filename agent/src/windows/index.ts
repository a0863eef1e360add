export * from './install-script.ts';
export * from './powershell-literal.ts';
