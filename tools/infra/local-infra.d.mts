export interface LocalServer {
  url: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}
export const REPO_ROOT: string;
export const TOOLS_DIR: string;
export const TOOLS_BIN: string;
export const NATS_SERVER_MODULE: string;
export function freePort(): Promise<number>;
export function startPostgres(options?: { port?: number }): Promise<LocalServer>;
export function startNats(options?: { port?: number }): Promise<LocalServer>;
export function findPostgresBin(): string | undefined;
export function findNatsServer(options?: { recentOnly?: boolean }): string | undefined;
