/// A script run before any of a document's own that lets its
/// `requestAnimationFrame` callbacks run at most `rate` times a second: a
/// callback whose frame comes too early is carried to the next frame. The
/// ids handed out stay valid for `cancelAnimationFrame`.
enum AnimationFrameLimit {
    static func script(rate: Int) -> String {
        """
        (() => {
          const request = window.requestAnimationFrame.bind(window);
          const cancel = window.cancelAnimationFrame.bind(window);
          // 4 ms early still counts: frames of a 60 Hz display land 16.7 ms apart.
          const interval = 1000 / \(rate) - 4;
          let last = -Infinity, nextId = 1;
          const pending = new Map();
          window.requestAnimationFrame = (callback) => {
            const id = nextId++;
            const frame = (now) => {
              if (now === last || now - last >= interval) {
                last = now;
                pending.delete(id);
                callback(now);
              } else {
                pending.set(id, request(frame));
              }
            };
            pending.set(id, request(frame));
            return id;
          };
          window.cancelAnimationFrame = (id) => {
            const inner = pending.get(id);
            if (inner !== undefined) { cancel(inner); pending.delete(id); }
          };
        })();
        """
    }
}
