// Preloaded into the TypeScript SDK's example servers, which listen on fixed ports (3000, and 3001 for the
// OAuth demo's authorization server): every listen() goes to CORPUS_PORT on loopback instead, but for the
// one asked for on MCP_AUTH_PORT (the demo reads it), so each test run picks free ports.
import http from 'node:http';

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  const callback = args.find((arg) => typeof arg === 'function');
  const auth = process.env.MCP_AUTH_PORT && Number(args[0]) === Number(process.env.MCP_AUTH_PORT);
  return listen.call(this, Number(auth ? process.env.MCP_AUTH_PORT : process.env.CORPUS_PORT), '127.0.0.1', callback);
};
