// What the global setup provides to every test file (vitest inject).
declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalBin: string;
    postgresServerUrl: string;
  }
}
export {};
