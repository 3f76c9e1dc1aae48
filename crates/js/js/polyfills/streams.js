// `TextEncoderStream`, `TextDecoderStream` (on TransformStream) and `scheduler.wait`, which
// the engine lacks. `scheduler.wait(ms, {signal})` resolves after `ms` on the Worker's timers
// (the emulator's clock), as workerd's does.

if (typeof globalThis.TextEncoderStream === "undefined") {
  class TextEncoderStream {
    #transform;
    constructor() {
      const encoder = new TextEncoder();
      let pending = ""; // a high surrogate waiting for its pair
      this.#transform = new TransformStream({
        transform(chunk, controller) {
          let text = pending + String(chunk);
          pending = "";
          const last = text.charCodeAt(text.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) {
            pending = text.slice(-1);
            text = text.slice(0, -1);
          }
          if (text) controller.enqueue(encoder.encode(text));
        },
        flush(controller) {
          if (pending) controller.enqueue(encoder.encode("\ufffd"));
        },
      });
    }
    get encoding() {
      return "utf-8";
    }
    get readable() {
      return this.#transform.readable;
    }
    get writable() {
      return this.#transform.writable;
    }
  }
  globalThis.TextEncoderStream = TextEncoderStream;
}

if (typeof globalThis.TextDecoderStream === "undefined") {
  class TextDecoderStream {
    #transform;
    #decoder;
    constructor(label = "utf-8", options = {}) {
      const decoder = new TextDecoder(label, options);
      this.#decoder = decoder;
      this.#transform = new TransformStream({
        transform(chunk, controller) {
          const bytes =
            chunk instanceof ArrayBuffer
              ? new Uint8Array(chunk)
              : ArrayBuffer.isView(chunk)
                ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
                : null;
          if (!bytes) {
            throw new TypeError(
              "TextDecoderStream: chunks must be ArrayBuffer or ArrayBufferView",
            );
          }
          const text = decoder.decode(bytes, { stream: true });
          if (text) controller.enqueue(text);
        },
        flush(controller) {
          const text = decoder.decode();
          if (text) controller.enqueue(text);
        },
      });
    }
    get encoding() {
      return this.#decoder.encoding;
    }
    get fatal() {
      return this.#decoder.fatal;
    }
    get ignoreBOM() {
      return this.#decoder.ignoreBOM;
    }
    get readable() {
      return this.#transform.readable;
    }
    get writable() {
      return this.#transform.writable;
    }
  }
  globalThis.TextDecoderStream = TextDecoderStream;
}

if (typeof globalThis.scheduler === "undefined") {
  const scheduler = {
    /** Resolves after `ms` milliseconds; rejects with the signal's reason when aborted. */
    wait(ms, options = {}) {
      const signal = options && options.signal;
      return new Promise((resolve, reject) => {
        if (signal && signal.aborted) {
          reject(signal.reason);
          return;
        }
        const id = setTimeout(() => {
          if (signal) signal.removeEventListener("abort", onAbort);
          resolve();
        }, Number(ms) || 0);
        function onAbort() {
          clearTimeout(id);
          reject(signal.reason);
        }
        if (signal) signal.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
  Object.defineProperty(globalThis, "scheduler", {
    value: scheduler,
    writable: true,
    configurable: true,
  });
}
