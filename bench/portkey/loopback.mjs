// Preloaded with `node --import` before Portkey's start-server.js, which calls serve() with a port
// and no hostname, so Node would listen on every interface. Any listen() given only a port is bound to
// 127.0.0.1 instead.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args.length === 1 || typeof args[1] === 'function' || args[1] === undefined) {
      args.splice(1, args[1] === undefined && args.length > 1 ? 1 : 0, '127.0.0.1');
    }
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
