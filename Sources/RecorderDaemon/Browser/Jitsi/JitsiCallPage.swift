import PageBrowser

/// What Jitsi's page is asked, through `Runtime.evaluate`: `Page`, or a
/// stand-in in tests.
protocol JitsiPageScripting: Sendable {
    func evaluate(_ expression: String, timeout: Duration) async throws(BrowserError) -> JSONValue
}

extension Page: JitsiPageScripting {}

/// Jibri's `AppCallPage` (jibri @62369d5,
/// `src/main/kotlin/org/jitsi/jibri/selenium/pageobjects/AppCallPage.kt`):
/// the same JavaScript, read the same way. Jibri's scripts are WebDriver
/// function bodies (`return ...`); each runs here as the body of an arrow
/// function called at once, so the text between the braces is Jibri's.
/// A browser error (a hung page's `timedOut("evaluate")`, a crash) is
/// thrown as is: Jibri calls any of them "Chrome hung".
struct JitsiCallPage: Sendable {
    let page: any JitsiPageScripting
    /// Longest wait for one answer.
    let timeout: Duration

    /// Jibri's `PARTICIPANT_FILTER_SCRIPT` (line 630).
    static let participantFilter = "filter(p => !(p.isHidden() || p.isHiddenFromRecorder()))"

    private func run(_ body: String) async throws(BrowserError) -> JSONValue {
        try await page.evaluate("(() => {\n\(body)\n})()", timeout: timeout)
    }

    // MARK: - Joining (lines 28-47)

    static let isJoinedScript = """
        try {
            return APP.conference._room.isJoined();
        } catch (e) {
            return e.message;
        }
        """

    /// True only for a JavaScript `true`; anything else (false, an error's
    /// message) is "not joined yet", as Jibri's `when (result) { is Boolean ... else -> false }`.
    func isJoined() async throws(BrowserError) -> (joined: Bool, answer: JSONValue) {
        let answer = try await run(Self.isJoinedScript)
        return (answer == .bool(true), answer)
    }

    // MARK: - Participants (lines 90-109)

    static let numParticipantsScript = """
        try {
            return (APP.conference._room.getParticipants().\(participantFilter)).length + 1;
        } catch (e) {
            return e.message;
        }
        """

    /// Visible participants, this recorder included; 1 when the answer is not a number.
    func numParticipants() async throws(BrowserError) -> Int {
        if case .number(let count) = try await run(Self.numParticipantsScript), count.isFinite { return Int(count) }
        return 1
    }

    /// Jibri's `isCallEmpty() = getNumParticipants() <= 1`.
    func isCallEmpty() async throws(BrowserError) -> Bool { try await numParticipants() <= 1 }

    // MARK: - Stats (lines 112-132)

    static let statsScript = """
        try {
            return APP.conference.getStats();
        } catch (e) {
            return e.message;
        }
        """

    /// `getStats()["bitrate"]["download"]`, 0 when absent. Jibri casts it
    /// to a Long (a non-integral number would throw there, and count as
    /// Chrome hung); here any number is read, anything else is 0.
    func downloadBitrate() async throws(BrowserError) -> Double {
        guard case .object(let stats) = try await run(Self.statsScript),
              case .object(let bitrate)? = stats["bitrate"], case .number(let download)? = bitrate["download"] else { return 0 }
        return download
    }

    // MARK: - Muted, Jigasi, hidden (lines 239-281, 326-347)

    static let numMutedScript = """
        try {
            return APP.conference._room.getParticipants()
                .\(participantFilter)
                .filter(participant => participant.isAudioMuted() && participant.isVideoMuted()
                            && participant.getProperty("features_jigasi") !== true)
                .length;
        } catch (e) {
            return e.message;
        }
        """

    static let numJigasiScript = """
        try {
            return APP.conference._room.getParticipants()
                .\(participantFilter)
                .filter(participant => participant.getProperty("features_jigasi") == true)
                .length;
        } catch (e) {
            return e.message;
        }
        """

    static let numHiddenScript = """
        try {
            return APP.conference._room.getParticipants()
                .filter(p => (p.isHidden() || p.isHiddenFromRecorder()))
                .length;
        } catch (e) {
            return e.message;
        }
        """

    /// A count; 0 when the answer is not a number (Jibri logs an error and uses 0).
    private func count(_ script: String) async throws(BrowserError) -> Int {
        if case .number(let count) = try await run(script), count.isFinite { return Int(count) }
        return 0
    }

    func numRemoteParticipantsMuted() async throws(BrowserError) -> Int { try await count(Self.numMutedScript) }
    func numRemoteParticipantsJigasi() async throws(BrowserError) -> Int { try await count(Self.numJigasiScript) }
    func numHiddenParticipants() async throws(BrowserError) -> Int { try await count(Self.numHiddenScript) }

    // MARK: - ICE (lines 286-301)

    static let connectionStateScript = """
        try {
            return APP.conference.getConnectionState();
        } catch(e) {
            return e.message;
        }
        """

    /// Jibri's `result.toString().lowercase() == "connected"`.
    func isIceConnected() async throws(BrowserError) -> Bool {
        guard case .string(let state) = try await run(Self.connectionStateScript) else { return false }
        return state.lowercased() == "connected"
    }

    // MARK: - The participant tracker (lines 134-187, 217-233)

    static let participantTrackerScript = """
        try {
            window._jibriParticipants = new Map();
            const existingMembers = APP.conference._room.room.members || {};
            const existingMemberJids = Object.keys(existingMembers);
            console.log("There were " + existingMemberJids.length + " existing members");
            existingMemberJids.forEach(jid => {
                const existingMember = existingMembers[jid];
                const nick = existingMember.nick;
                if (existingMember.identity) {
                    console.log("Member ", existingMember, " has identity, adding");
                    if (nick && nick.length > 0 && existingMember.identity.user) {
                        existingMember.identity.user.name = nick;
                    }
                    window._jibriParticipants.set(jid, existingMember.identity);
                } else {
                    console.log("Member ", existingMember.jid, " has no identity, skipping");
                }
            });
            APP.conference._room.room.addListener(
                "xmpp.muc_member_joined",
                (from, nick, role, hidden, statsid, status, identity) => {
                    console.log("Jibri got MUC_MEMBER_JOINED: ", from, identity);
                    if (!hidden && identity) {
                        if (nick && nick.length > 0 && identity.user) {
                            identity.user.name = nick;
                        }
                        window._jibriParticipants.set(from, identity);
                    }
                }
            );
            APP.conference._room.room.addListener(
                "xmpp.display_name_changed",
                (jid, displayName) => {
                    const identity = window._jibriParticipants.get(jid);
                    if (displayName && displayName.length > 0 && identity && identity.user) {
                        identity.user.name = displayName;
                    }
                }
            );

            return true;
        } catch (e) {
            return e.message;
        }
        """

    /// Starts collecting participants (their `identity`); false when the
    /// page's answer is not `true`.
    func injectParticipantTracker() async throws(BrowserError) -> Bool {
        try await run(Self.participantTrackerScript) == .bool(true)
    }

    static let participantsScript = """
        try {
            return window._jibriParticipants.values().toArray();
        } catch (e) {
            return e.message;
        }
        """

    /// The identities collected (`[]` when the answer is not a list).
    func participants() async throws(BrowserError) -> [JSONValue] {
        if case .array(let list) = try await run(Self.participantsScript) { return list }
        return []
    }

    // MARK: - Presence and leaving (lines 564-624)

    /// Jibri's `setParticipantProperties`: `addToPresence` for each pair,
    /// then `sendPresence`; Jibri passes key and value as `arguments[0/1]`,
    /// here they are JSON string literals in their place. False when any
    /// answer is a string (an error's message).
    func setPresenceProperties(_ properties: [(key: String, value: String)]) async throws(BrowserError) -> Bool {
        var succeeded = true
        for (key, value) in properties {
            let script = """
                try {
                    APP.conference._room.room.addOrReplaceInPresence(
                        \(JitsiRoom.jsonString(key)),
                        {
                            value: \(JitsiRoom.jsonString(value))
                        }
                    );
                } catch (e) {
                    return e.message;
                }
                """
            if case .string = try await run(script) { succeeded = false }
        }
        let sent = try await run("""
            try {
                APP.conference._room.room.sendPresence();
            } catch (e) {
                return e.message;
            }
            """)
        if case .string = sent { return false }
        return succeeded
    }

    static let leaveScript = """
        try {
            return APP.conference._room.leave();
        } catch (e) {
            return e.message;
        }
        """

    /// Leaves the conference, then waits up to 2 s until the page counts
    /// one participant (Jibri: "give time for the js Promise to finish").
    func leave(clock: ContinuousClock = ContinuousClock()) async throws(BrowserError) -> Bool {
        let answer = try await run(Self.leaveScript)
        let deadline = clock.now + .seconds(2)
        while try await numParticipants() != 1, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(500))
        }
        if case .string = answer { return false }
        return true
    }
}
