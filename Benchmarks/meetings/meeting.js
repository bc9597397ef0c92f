// Shared by the reference meeting pages: counts animation frames (what the
// compositor produced for the page), plays one quiet tone per tile through
// WebAudio, and prints START_RECORDING once every video plays and the sound runs.
window.__frames = 0;
(function count() { window.__frames++; requestAnimationFrame(count); })();
window.meetingStarted = false;
function startMeeting(tones) {
  const videos = Array.from(document.querySelectorAll("video"));
  const context = new AudioContext();
  const mix = context.createGain();
  mix.gain.value = 0.1;
  mix.connect(context.destination);
  for (const frequency of tones) {
    const oscillator = context.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(mix);
    oscillator.start();
  }
  const playing = videos.map(v => v.play().then(() => new Promise(r => v.readyState >= 3 ? r() : v.addEventListener("playing", r, {once: true}))));
  Promise.all(playing.concat([context.resume()])).then(() => {
    window.meetingStarted = true;
    console.log("START_RECORDING");
  });
}
