/**
 * Unit tests must not use the network: any attempt to connect or listen fails the test loudly, and
 * so does a name lookup (a DNS query would leave the machine; inject a resolver instead).
 */
import dns from "node:dns";
import * as net from "node:net";

const refuse = () => {
  throw new Error("Unit tests must not use the network (a socket was opened). Move this test to integration.");
};
net.Socket.prototype.connect = refuse as never;
net.Server.prototype.listen = refuse as never;

const refuseLookup = () => {
  throw new Error("Unit tests must not resolve host names (a DNS query was started). Inject a resolver.");
};
Object.assign(dns, { lookup: refuseLookup, resolve: refuseLookup });
Object.assign(dns.promises, { lookup: refuseLookup, resolve: refuseLookup });
