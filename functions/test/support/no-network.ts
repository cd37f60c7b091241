/**
 * Unit tests must not open sockets: any attempt to connect or listen fails the test loudly.
 */
import * as net from "node:net";

const refuse = () => {
  throw new Error("Unit tests must not use the network (a socket was opened). Move this test to integration.");
};
net.Socket.prototype.connect = refuse as never;
net.Server.prototype.listen = refuse as never;
