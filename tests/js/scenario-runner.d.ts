export function runAll(api: unknown, scenarios: unknown[]): Record<string, string>;
