// Moved to core so the reproduction bundle's reproduce.ps1 (activities) quotes by the same rules.
export * from '@drydock/core/powershell-literal';
