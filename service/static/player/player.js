// The embeddable player: plays an article's narration and reads along with it.
//
// Data: the page embeds the article's status (JSON in #player-data). When audio is ready it
// loads the MP3 and the manifest (every spoken sentence with start_ms/end_ms); until then it
// polls the status URL and shows the narration's state.
//
// While a narration is being made, its status may carry a stream_url: an HLS playlist of the
// parts made so far, which grows until the narration is complete. The player plays it at once
// (natively where the browser plays HLS, else with hls.js, loaded only then), and when the
// finished MP3 is ready it switches to it at the same position, playing on if it was playing.
"use strict";

(function () {
  const SKIP_S = 15;
  const POLL_MIN_MS = 2000;
  const POLL_MAX_MS = 15000;
  const USER_SCROLL_GRACE_MS = 4000;

  const root = document.getElementById("player");
  if (!root) return;
  const data = JSON.parse(document.getElementById("player-data").textContent);
  const $ = (id) => document.getElementById(id);
  const audio = $("audio");
  const playButton = $("play");
  const backButton = $("back");
  const forwardButton = $("forward");
  const seek = $("seek");
  const elapsed = $("elapsed");
  const durationLabel = $("duration");
  const speed = $("speed");
  const statusLine = $("status");
  const transcript = $("transcript");
  const download = $("download");

  let cues = []; // [{start, end, el}] in seconds, sorted by start
  let current = -1;
  let seeking = false;
  let lastUserScroll = 0;
  let pollDelay = POLL_MIN_MS;
  let rafId = 0;
  let stream = null; // {url, hls} while playing the growing stream of a narration being made
  const HLS_SCRIPT = (document.currentScript && document.currentScript.src || "").replace(/player\.js(\?.*)?$/, "vendor/hls.light.min.js");

  // --- formatting -------------------------------------------------------------------------
  function clock(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "--:--";
    const s = Math.floor(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
  }

  function spoken(seconds) {
    const s = Math.round(seconds);
    const m = Math.floor(s / 60);
    return m ? `${m} minutes ${s % 60} seconds` : `${s} seconds`;
  }

  function say(text, failed) {
    statusLine.textContent = text;
    root.classList.toggle("is-failed", Boolean(failed));
  }

  // --- state: waiting for the narration ------------------------------------------------------
  function describe(status) {
    const job = status.pending;
    if (!job) return status.state === "none" ? "This article has not been narrated yet." : "";
    if (job.state === "failed") {
      return `The narration failed${job.error ? ": " + job.error : "."} It will be retried when the article is narrated again.`;
    }
    if (job.state === "queued") return "The narration is queued and will start shortly…";
    const total = job.chunks_total || 0;
    const done = job.chunks_done || 0;
    if (stream) return total ? `Playing the parts narrated so far (${done} of ${total}).` : "Playing the parts narrated so far.";
    return total ? `Narrating… ${done} of ${total} parts done.` : "Narrating…";
  }

  async function poll() {
    // Until audio is ready. A newer version made while someone listens does not interrupt
    // them; the next page load plays it.
    try {
      const response = await fetch(data.status_url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        const progressed = JSON.stringify(status.pending) !== JSON.stringify(data.status.pending);
        data.status = status;
        if (status.audio) {
          if (stream) switchToFile(status.audio);
          else load(status.audio);
          return;
        }
        if (!stream && status.pending && status.pending.stream_url) startStream(status.pending.stream_url);
        say(describe(status), status.pending && status.pending.state === "failed");
        if (progressed) pollDelay = POLL_MIN_MS;
      }
    } catch (err) {
      // offline or the server is restarting: keep asking, less often
    }
    pollDelay = Math.min(POLL_MAX_MS, Math.round(pollDelay * 1.5));
    setTimeout(poll, pollDelay);
  }

  // --- loading audio and transcript ---------------------------------------------------------
  function load(narration) {
    audio.src = narration.audio_url;
    download.href = narration.audio_url;
    download.hidden = false;
    if (narration.duration_ms) showDuration(narration.duration_ms / 1000);
    for (const b of [playButton, backButton, forwardButton, seek]) b.disabled = false;
    say("");
    root.classList.add("is-ready");
    mediaSession();
    const timings = narration.read_along_url || narration.manifest_url;
    if (timings) loadManifest(timings);
  }

  // --- the growing stream while the narration is made ----------------------------------------
  function nativeHls() {
    return audio.canPlayType("application/vnd.apple.mpegurl") !== "";
  }

  function loadHlsJs() {
    if (window.Hls) return Promise.resolve(window.Hls);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = HLS_SCRIPT;
      script.onload = () => (window.Hls ? resolve(window.Hls) : reject(new Error("no Hls")));
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function startStream(url) {
    stream = { url, hls: null, engine: nativeHls() ? "native" : "hls.js" };
    if (stream.engine === "native") {
      audio.src = url;
    } else {
      let Hls;
      try {
        Hls = await loadHlsJs();
      } catch (err) {
        stream = null; // no way to play it here: wait for the MP3
        return;
      }
      if (!Hls.isSupported() || !stream) {
        stream = null;
        return;
      }
      // Start at the beginning of the article, not at the live edge; no worker, so the page's
      // Content-Security-Policy needs no blob: scripts.
      const hls = new Hls({ startPosition: 0, enableWorker: false, liveDurationInfinity: false });
      stream.hls = hls;
      hls.on(Hls.Events.ERROR, (event, info) => {
        if (info.fatal && info.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
        else if (info.fatal && info.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      });
      hls.loadSource(url);
      hls.attachMedia(audio);
    }
    for (const b of [playButton, backButton, forwardButton, seek]) b.disabled = false;
    root.classList.add("is-ready", "is-streaming");
    mediaSession();
  }

  function switchToFile(narration) {
    // The stream's timeline is the MP3's (every part starts where the stitcher put it), so
    // the listener goes on from the same place.
    const position = audio.currentTime || 0;
    const playing = !audio.paused && !audio.ended;
    if (stream && stream.hls) stream.hls.destroy();
    stream = null;
    root.classList.remove("is-streaming");
    audio.addEventListener(
      "loadedmetadata",
      () => {
        if (position > 0 && position < audio.duration) audio.currentTime = position;
        if (playing) audio.play().catch(() => {});
      },
      { once: true }
    );
    load(narration);
  }

  async function loadManifest(url) {
    try {
      const response = await fetch(url);
      if (!response.ok) return;
      renderTranscript(await response.json());
      if (audio.currentTime > 0) highlight(audio.currentTime);
    } catch (err) {
      // the transcript is a bonus: the audio plays without it
    }
  }

  function entriesOf(manifest) {
    const list = manifest.sentences || manifest.segments || manifest.cues || [];
    return list.filter((e) => typeof e.start_ms === "number" && e.text);
  }

  function renderTranscript(manifest) {
    // Headings and the title stand alone; sentences flow into paragraphs, which end where the
    // narration paused for a paragraph or a section (or the section changes).
    transcript.textContent = "";
    cues = [];
    let paragraph = null;
    let previous = null;
    for (const entry of entriesOf(manifest)) {
      const kind = entry.kind || "sentence";
      if (kind === "intro" || kind === "outro") continue;
      const start = entry.start_ms / 1000;
      const end = (typeof entry.end_ms === "number" ? entry.end_ms : entry.start_ms) / 1000;
      // The title and byline are already shown above the controls: read along there.
      const shown = kind === "title" ? $("player-title-text") : kind === "byline" ? $("player-byline") : null;
      const sentence = shown || document.createElement("span");
      sentence.classList.add("sentence");
      if (!shown) sentence.textContent = entry.text;
      sentence.tabIndex = -1; // one tab stop for the whole transcript: see rove()
      sentence.setAttribute("role", "button");
      sentence.dataset.start = String(start);
      sentence.title = `Play from ${clock(start)}`;
      if (shown) {
        previous = entry;
        cues.push({ start, end, el: sentence });
        continue;
      }
      if (kind === "title" || kind === "heading") {
        const heading = document.createElement(kind === "title" ? "p" : "h2");
        heading.className = `transcript__${kind}`;
        heading.appendChild(sentence);
        transcript.appendChild(heading);
        paragraph = null;
      } else {
        const breaks =
          !paragraph ||
          !previous ||
          kind === "byline" ||
          previous.kind === "byline" ||
          previous.section !== entry.section ||
          previous.pause === "paragraph" ||
          previous.pause === "section";
        if (breaks) {
          paragraph = document.createElement("p");
          if (kind === "byline") paragraph.className = "transcript__byline";
          transcript.appendChild(paragraph);
        } else {
          paragraph.appendChild(document.createTextNode(" "));
        }
        paragraph.appendChild(sentence);
      }
      previous = entry;
      cues.push({ start, end, el: sentence });
    }
    cues.sort((a, b) => a.start - b.start);
    current = -1;
    if (cues.length) rove(cues[0].el);
  }

  // Roving tabindex: Tab reaches the transcript once (at the sentence being read), and the
  // arrow keys move between sentences, so a long article is not hundreds of tab stops.
  let tabStop = null;
  function rove(el) {
    if (tabStop) tabStop.tabIndex = -1;
    tabStop = el;
    el.tabIndex = 0;
  }

  // --- read-along -------------------------------------------------------------------------
  function cueAt(t) {
    // the last cue that started at or before t (binary search)
    let lo = 0;
    let hi = cues.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cues[mid].start <= t + 0.05) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  function highlight(t) {
    const index = cueAt(t);
    if (index === current) return;
    if (current >= 0 && cues[current]) {
      cues[current].el.classList.remove("is-current");
      cues[current].el.removeAttribute("aria-current");
    }
    current = index;
    if (index < 0) return;
    const el = cues[index].el;
    el.classList.add("is-current");
    el.setAttribute("aria-current", "true");
    if (!root.contains(document.activeElement) || !document.activeElement.matches(".sentence")) rove(el);
    if (Date.now() - lastUserScroll > USER_SCROLL_GRACE_MS) follow(el);
  }

  function follow(el) {
    // Scroll only the transcript box, never the page that embeds the player.
    if (!transcript.contains(el)) {
      transcript.scrollTo({ top: 0 });
      return;
    }
    const box = transcript.getBoundingClientRect();
    const line = el.getBoundingClientRect();
    if (line.top >= box.top + 8 && line.bottom <= box.bottom - 8) return;
    const target = transcript.scrollTop + (line.top - box.top) - box.height / 3;
    transcript.scrollTo({ top: Math.max(0, target) });
  }

  function tick() {
    highlight(audio.currentTime);
    if (!seeking) {
      seek.value = String(audio.currentTime);
      seek.setAttribute("aria-valuetext", `${spoken(audio.currentTime)} of ${spoken(audio.duration || 0)}`);
    }
    elapsed.textContent = clock(audio.currentTime);
    if (!audio.paused) rafId = requestAnimationFrame(tick);
  }

  // --- controls ---------------------------------------------------------------------------
  function showDuration(seconds) {
    if (!isFinite(seconds) || seconds <= 0) return;
    seek.max = String(seconds);
    durationLabel.textContent = clock(seconds);
  }

  function seekTo(seconds) {
    const limit = isFinite(audio.duration) ? audio.duration : Number(seek.max) || 0;
    audio.currentTime = Math.max(0, Math.min(limit, seconds));
    tick();
    positionState();
  }

  function toggle() {
    if (audio.paused) audio.play().catch(() => say("Press play to listen."));
    else audio.pause();
  }

  playButton.addEventListener("click", toggle);
  backButton.addEventListener("click", () => seekTo(audio.currentTime - SKIP_S));
  forwardButton.addEventListener("click", () => seekTo(audio.currentTime + SKIP_S));
  speed.addEventListener("change", () => {
    audio.playbackRate = Number(speed.value);
    positionState();
  });
  seek.addEventListener("input", () => {
    seeking = true;
    elapsed.textContent = clock(Number(seek.value));
  });
  seek.addEventListener("change", () => {
    seeking = false;
    seekTo(Number(seek.value));
  });

  function playFrom(el) {
    seekTo(Number(el.dataset.start));
    if (audio.paused) audio.play().catch(() => {});
  }
  root.addEventListener("click", (event) => {
    const el = event.target.closest(".sentence");
    if (el) playFrom(el);
  });
  root.addEventListener("keydown", (event) => {
    const el = event.target.closest(".sentence");
    if (!el) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      playFrom(el);
    } else if (["ArrowDown", "ArrowRight", "ArrowUp", "ArrowLeft"].includes(event.key)) {
      event.preventDefault();
      const at = cues.findIndex((c) => c.el === el);
      const step = event.key === "ArrowDown" || event.key === "ArrowRight" ? 1 : -1;
      const next = cues[Math.max(0, Math.min(cues.length - 1, at + step))];
      if (next) {
        rove(next.el);
        next.el.focus();
      }
    }
  });
  for (const kind of ["wheel", "touchmove"]) {
    transcript.addEventListener(kind, () => (lastUserScroll = Date.now()), { passive: true });
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, .sentence, button") || event.ctrlKey || event.metaKey) return;
    if (playButton.disabled) return;
    if (event.key === " " || event.key === "k") {
      event.preventDefault();
      toggle();
    } else if (event.key === "ArrowLeft" || event.key === "j") {
      seekTo(audio.currentTime - SKIP_S);
    } else if (event.key === "ArrowRight" || event.key === "l") {
      seekTo(audio.currentTime + SKIP_S);
    }
  });

  audio.addEventListener("loadedmetadata", () => showDuration(audio.duration));
  audio.addEventListener("durationchange", () => showDuration(audio.duration));
  audio.addEventListener("play", () => {
    root.classList.add("is-playing");
    playButton.setAttribute("aria-label", "Pause");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "playing";
    cancelAnimationFrame(rafId);
    rafId = requestAnimationFrame(tick);
  });
  audio.addEventListener("pause", () => {
    root.classList.remove("is-playing");
    playButton.setAttribute("aria-label", "Play");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = "paused";
    tick();
  });
  audio.addEventListener("timeupdate", tick); // also drives the UI where rAF is throttled
  audio.addEventListener("seeked", tick);
  audio.addEventListener("ratechange", () => (speed.value = String(audio.playbackRate)));
  audio.addEventListener("error", () => say("The audio could not be loaded. Please try again later.", true));

  // --- Media Session: lock screen, headphones, keyboard media keys --------------------------
  function mediaSession() {
    if (!("mediaSession" in navigator)) return;
    const status = data.status;
    const artwork = status.image_url ? [{ src: status.image_url }] : [];
    navigator.mediaSession.metadata = new MediaMetadata({
      title: status.title,
      artist: status.byline ? `By ${status.byline}` : data.publisher || "",
      album: data.publisher || "",
      artwork,
    });
    const handlers = {
      play: () => audio.play(),
      pause: () => audio.pause(),
      seekbackward: (d) => seekTo(audio.currentTime - (d.seekOffset || SKIP_S)),
      seekforward: (d) => seekTo(audio.currentTime + (d.seekOffset || SKIP_S)),
      seekto: (d) => seekTo(d.seekTime),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch (err) {
        // an action this browser does not support
      }
    }
  }

  function positionState() {
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState) return;
    if (!isFinite(audio.duration)) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: audio.duration,
        playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration),
      });
    } catch (err) {
      // position outside the duration while metadata loads
    }
  }
  audio.addEventListener("loadedmetadata", positionState);

  // --- start --------------------------------------------------------------------------------
  // Exposed for tests and for the embedding page's scripts (read-only use).
  window.narratorPlayer = {
    audio,
    cues: () => cues,
    current: () => current,
    streaming: () => (stream ? stream.engine : null),
  };

  if (data.status.audio) {
    load(data.status.audio);
  } else {
    const pending = data.status.pending;
    if (pending && pending.stream_url) startStream(pending.stream_url);
    say(describe(data.status), pending && pending.state === "failed");
    setTimeout(poll, pollDelay);
  }
})();
