export default async function globalTeardown() {
  for (const server of globalThis.__LATCHKEY_INFRA__ ?? []) await server.stop();
}
