// WS /api/v1/events: live queue updates. The browser sends its session cookie with the
// upgrade request; the socket reconnects with a growing pause when it drops.

export class LiveEvents extends EventTarget {
  constructor(path = "/api/v1/events") {
    super();
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.state = "connecting";
    this.pause = 1000;
    this.closed = false;
    this.connect();
  }

  connect() {
    this.setState("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "hello") {
        this.pause = 1000;
        this.setState("live");
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    socket.addEventListener("close", () => {
      if (this.closed) return;
      this.setState("offline");
      this.timer = setTimeout(() => this.connect(), this.pause);
      this.pause = Math.min(this.pause * 2, 30000);
    });
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }
}
