extension BrowserLaunch {
    /// The browser's command line, less the profile and the pipe.
    public var browserArguments: [String] {
        var arguments = replacementFlags ?? [
            // The window is the whole workspace: no tabs, address bar or
            // infobar, one CSS pixel per X pixel, at the screen's corner.
            "--kiosk",
            "--window-position=0,0",
            "--window-size=\(width),\(height)",
            "--force-device-scale-factor=1",
            // An X server only (no Wayland even when the daemon's environment names one).
            "--ozone-platform=x11",
            // Sound and media start without a gesture or a permission prompt.
            "--autoplay-policy=no-user-gesture-required",
            "--use-fake-ui-for-media-stream",
            // A bare X server gives the window no focus and may report it
            // hidden: timers, rendering and frames must not be slowed then.
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            // Nothing in front of the page ("page unresponsive" and first-run
            // dialogs, bubbles), nothing behind it calling home.
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-hang-monitor",
            "--noerrdialogs",
            "--disable-sync",
            "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider",
            "--disable-background-networking",
            "--disable-component-update",
            // Chromium 156 still starts two chrome_crashpad_handler with
            // these (outside the group: `ProfileHolders` ends them);
            // --disable-crashpad-for-testing, which would not start them,
            // aborts every navigation (net::ERR_ABORTED).
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--metrics-recording-only",
            // No GNOME keyring or KWallet prompt for a store nobody reads.
            "--password-store=basic",
            // With no GPU, Chromium 156 composites, rasterizes and decodes in
            // software either way (SystemInfo: gpu_compositing, rasterization
            // "disabled_software", webgl off); without this flag its GPU
            // process still loads ANGLE on Mesa's llvmpipe for nothing. Same
            // CPU on the grid page, less memory (docs/BENCHMARKS.md, meetings).
            // Measured and not kept (no gain beyond noise): --disable-gpu-vsync,
            // --disable-gpu-compositing, --disable-gpu-rasterization, --in-process-gpu,
            // field trials / safe browsing / extensions off; --use-angle=swiftshader
            // drew 2 frames a second.
            "--disable-gpu",
        ]
        if !sandbox { arguments.append("--no-sandbox") }
        return arguments + extraArguments
    }

    /// The browser's environment: this process's, with the display and the
    /// sound server, and its configuration directory in `profile`: Chromium's
    /// crash handler keeps its database (a dump per crashed renderer) under
    /// `$XDG_CONFIG_HOME/chromium`, else in `~/.config`, where nothing removes it.
    func browserEnvironment(profile: String) -> [String: String?] {
        var changes: [String: String?] = ["DISPLAY": display, "WAYLAND_DISPLAY": nil, "XDG_CONFIG_HOME": profile]
        if let pulseServer { changes["PULSE_SERVER"] = pulseServer }
        if let pulseSink { changes["PULSE_SINK"] = pulseSink }
        return changes
    }
}
