export * from './core.d.ts';
export * from './connection.d.ts';
