import type http from 'node:http';

/**
 * Stops a test server at once. close() alone waits for every open connection, and a client's
 * keep-alive socket (undici keeps them) would hold it until that client's own timeout: the
 * connections are dropped first.
 */
export function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
