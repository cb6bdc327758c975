// Starts Frappe's realtime (socket.io) server bound to the loopback interface only.
// Frappe's server listens on every interface; a development bench must not be reachable from outside.
// Usage, from the bench folder: node /path/to/scripts/socketio_loopback.js
const http = require("http");
const path = require("path");

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, ...rest) {
	if (typeof port === "number" || (typeof port === "string" && /^\d+$/.test(port))) {
		const callback = rest.find((arg) => typeof arg === "function");
		return listen.call(this, Number(port), "127.0.0.1", callback);
	}
	return listen.call(this, port, ...rest);
};

require(path.resolve(process.cwd(), "apps", "frappe", "socketio.js"));
