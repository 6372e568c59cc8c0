// Preloaded into the TypeScript SDK's example servers, which listen on a fixed port (3000):
// every listen() goes to CORPUS_PORT on loopback instead, so each test run picks a free port.
import http from 'node:http';

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  const callback = args.find((arg) => typeof arg === 'function');
  return listen.call(this, Number(process.env.CORPUS_PORT), '127.0.0.1', callback);
};
