#!/usr/bin/env python3
"""Plays Jicofo's side of Jibri's protocol for the tests (Debian's python3-slixmpp).

Written from jitsi/jicofo @7ebb13d:
- jicofo/src/main/kotlin/org/jitsi/jicofo/jibri/JibriDetector.kt (and BaseBrewery.java):
  every occupant of the brewery whose presence carries
  <jibri-status xmlns='http://jitsi.org/protocol/jibri'> is an instance keyed by its
  occupant JID; it is available when health is 'healthy' and busy is 'idle'
  (JibriStatusPacketExt.isAvailable); leaving removes it. selectJibri(): among
  available instances not selected in the last SELECT_TIMEOUT (200 ms), the one with
  the smallest lastFailed (never failed first), and only if it failed at least
  FAILURE_TIMEOUT (1 min) ago. instanceFailed() sets lastFailed = now; an available
  presence resets it to never.
- jicofo/src/main/java/org/jitsi/jicofo/jibri/JibriSession.java: the start IQ is a
  'set' to the occupant JID with <jibri action='start' session_id room recording_mode
  [streamid] app_data/>; the reply is awaited 15 s (Smack's reply timeout); 'off' +
  failure_reason 'busy' is OneBusy, anything but 'pending' is UnexpectedResponse; each
  makes instanceFailed() and a retry with another Jibri while retries remain
  (num-retries = 5). 'pending' starts the pending timeout (90 s, --pending-timeout).
  Status IQs from the Jibri ('set' with status) are answered with an empty result;
  a failure_reason with should_retry 'true' retries with another Jibri, a missing
  should_retry means no retry; 'off' without a reason is a clean end. Stop is
  fire-and-forget (action='stop' session_id, no wait for the answer).

Commands, one JSON object a line on stdin:
  {"cmd": "start", "session_id": S, "room": R, "mode": "file"|"stream", "streamid": K, "app_data": A}
      a JibriSession start: select, send, retry as Jicofo does
  {"cmd": "start_to", "occupant": O, ...same fields}   one start IQ to O, no selection, no retry
  {"cmd": "stop", "session_id": S}
  {"cmd": "quit"}
Prints JSON lines on stdout: ready, instance (occupant, busy, health, available),
instance_left, selected, start_reply, status (from a Jibri's set IQ), retry,
session_failed, session_ended, no_jibri, error.
"""
import argparse
import asyncio
import json
import sys
import time

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

JIBRI_NS = "http://jitsi.org/protocol/jibri"
HEALTH_NS = "http://jitsi.org/protocol/health"
SELECT_TIMEOUT = 0.2
FAILURE_TIMEOUT = 60.0
NEVER = float("-inf")


def emit(event, **fields):
    fields["event"] = event
    fields["t"] = round(time.monotonic(), 3)
    print(json.dumps(fields), flush=True)


class Instance:
    def __init__(self, jid):
        self.jid = jid
        self.available = False
        self.last_failed = NEVER
        self.last_selected = NEVER


class Session:
    def __init__(self, command):
        self.command = command
        self.session_id = command["session_id"]
        self.current = None
        self.status = None
        self.retries = 0
        self.pending_task = None


class Jicofo(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.brewery = args.brewery.lower()
        self.instances = {}
        self.sessions = {}
        if args.ca:
            self.ca_certs = args.ca
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        self.add_event_handler("session_start", self.on_start)
        # Occupants' presences reach one of these depending on slixmpp's MUC
        # plugin state; both feed on_presence, which ignores repeats.
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("groupchat_presence", self.on_presence)
        self.seen = {}
        self.register_handler(Callback("jibri-iq", MatchXPath("{jabber:client}iq/{%s}jibri" % JIBRI_NS), self.on_jibri_iq))

    async def on_start(self, _event):
        self.send_presence()
        joined = await self.plugin["xep_0045"].join_muc_wait(slixmpp.JID(self.brewery), self.args.nick, maxstanzas=0)
        presence = joined[0] if isinstance(joined, tuple) else joined  # (presence, history) in slixmpp 1.8
        codes = [status.get("code") for status in presence.xml.iter("{http://jabber.org/protocol/muc#user}status")]
        if "201" in codes:
            # Created: make it an instant room (Jicofo's brewery join does), else it stays locked.
            iq = self.make_iq_set(ito=self.brewery)
            query = ET.Element("{http://jabber.org/protocol/muc#owner}query")
            ET.SubElement(query, "{jabber:x:data}x", {"type": "submit"})
            iq.append(query)
            await iq.send(timeout=10)
        emit("ready")
        asyncio.ensure_future(self.read_commands())

    # JibriDetector / BaseBrewery: instances from presences.
    def on_presence(self, presence):
        occupant = str(presence["from"])
        if presence["from"].bare.lower() != self.brewery or presence["from"].resource == self.args.nick:
            return
        status = presence.xml.find("{%s}jibri-status" % JIBRI_NS)
        key = (presence["type"], None if status is None else ET.tostring(status))
        if self.seen.get(occupant) == key:
            return
        self.seen[occupant] = key
        if presence["type"] == "unavailable":
            self.seen.pop(occupant, None)
            if self.instances.pop(occupant, None) is not None:
                emit("instance_left", occupant=occupant)
                for session in self.sessions.values():
                    if session.current == occupant:
                        # An instance going offline during a session: OFF, ERROR, retry.
                        self.status_update(session, occupant, "off", "error", True)
            return
        if status is None:
            return
        busy = status.find("{%s}busy-status" % JIBRI_NS)
        health = status.find("{%s}health-status" % HEALTH_NS)
        busy = busy.get("status") if busy is not None else None
        health = health.get("status") if health is not None else None
        instance = self.instances.setdefault(occupant, Instance(occupant))
        instance.available = health == "healthy" and busy == "idle"
        if instance.available:
            instance.last_failed = NEVER
        emit("instance", occupant=occupant, busy=busy, health=health, available=instance.available)

    def select(self):
        now = time.monotonic()
        candidates = [i for i in self.instances.values() if i.available and now - i.last_selected >= SELECT_TIMEOUT]
        if not candidates:
            return None
        oldest = min(candidates, key=lambda i: i.last_failed)
        if now - oldest.last_failed >= FAILURE_TIMEOUT:
            oldest.last_selected = now
            return oldest.jid
        return None

    def instance_failed(self, jid):
        if jid in self.instances:
            self.instances[jid].last_failed = time.monotonic()

    async def read_commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            command = json.loads(line)
            kind = command.get("cmd")
            if kind == "quit":
                break
            if kind == "start":
                session = Session(command)
                self.sessions[session.session_id] = session
                asyncio.ensure_future(self.start_session(session))
            elif kind == "start_to":
                asyncio.ensure_future(self.send_start(command, command["occupant"]))
            elif kind == "stop":
                self.stop(command["session_id"])
        self.disconnect()

    def start_iq(self, command, occupant):
        iq = self.make_iq_set(ito=occupant)
        element = ET.Element("{%s}jibri" % JIBRI_NS)
        element.set("action", "start")
        element.set("session_id", command["session_id"])
        element.set("room", command["room"])
        element.set("recording_mode", command.get("mode", "file"))
        if command.get("streamid"):
            element.set("streamid", command["streamid"])
        if command.get("app_data"):
            element.set("app_data", command["app_data"])
        iq.append(element)
        return iq

    async def send_start(self, command, occupant):
        """One start IQ; its reply's attributes (or timeout/error)."""
        emit("start_sent", session_id=command["session_id"], occupant=occupant)
        try:
            reply = await self.start_iq(command, occupant).send(timeout=15)
        except slixmpp.exceptions.IqTimeout:
            emit("start_reply", session_id=command["session_id"], occupant=occupant, status="timeout")
            return None
        except slixmpp.exceptions.IqError as error:
            emit("start_reply", session_id=command["session_id"], occupant=occupant, status="iq-error",
                 condition=error.iq["error"]["condition"])
            return None
        jibri = reply.xml.find("{%s}jibri" % JIBRI_NS)
        attributes = dict(jibri.attrib) if jibri is not None else {}
        emit("start_reply", session_id=command["session_id"], occupant=occupant, **attributes)
        return attributes

    # JibriSession.startInternal / sendJibriStartIq / retryRequestWithAnotherJibri.
    async def start_session(self, session):
        max_retries = self.args.num_retries
        while True:
            occupant = self.select()
            if occupant is None:
                emit("no_jibri", session_id=session.session_id,
                     reason="all_busy" if self.instances else "not_available")
                self.sessions.pop(session.session_id, None)
                return
            emit("selected", session_id=session.session_id, occupant=occupant)
            session.current = occupant
            reply = await self.send_start(session.command, occupant)
            if reply is not None and reply.get("status") == "pending":
                session.status = "pending"
                self.schedule_pending_timeout(session)
                return
            self.instance_failed(occupant)
            if max_retries >= 0 and session.retries >= max_retries:
                emit("session_failed", session_id=session.session_id, reason="retries exceeded")
                self.sessions.pop(session.session_id, None)
                return
            session.retries += 1
            emit("retry", session_id=session.session_id, retries=session.retries)

    def schedule_pending_timeout(self, session):
        if session.pending_task:
            session.pending_task.cancel()

        async def timeout():
            await asyncio.sleep(self.args.pending_timeout)
            if session.status == "pending":
                emit("pending_timeout", session_id=session.session_id)
                self.send_stop(session)
                self.status_update(session, session.current, "off", "error", True)
        session.pending_task = asyncio.ensure_future(timeout())

    def on_jibri_iq(self, iq):
        jibri = iq.xml.find("{%s}jibri" % JIBRI_NS)
        if iq["type"] != "set":
            return
        attributes = dict(jibri.attrib)
        emit("status", occupant=str(iq["from"]), **attributes)
        iq.reply().send()
        session = self.sessions.get(attributes.get("session_id"))
        if session is None:
            session = next((s for s in self.sessions.values() if s.current == str(iq["from"])), None)
        if session is None or not attributes.get("status"):
            return
        retry = attributes.get("should_retry")
        self.status_update(session, str(iq["from"]), attributes["status"], attributes.get("failure_reason"),
                           None if retry is None else retry == "true")

    # JibriSession.handleJibriStatusUpdate.
    def status_update(self, session, occupant, status, failure_reason, should_retry):
        if session.current != occupant:
            return
        session.status = status
        if status != "pending" and session.pending_task:
            session.pending_task.cancel()
            session.pending_task = None
        if failure_reason is not None:
            retry = bool(should_retry)
            if retry and not (self.args.num_retries >= 0 and session.retries >= self.args.num_retries):
                session.retries += 1
                emit("retry", session_id=session.session_id, retries=session.retries)
                asyncio.ensure_future(self.start_session(session))
            else:
                emit("session_failed", session_id=session.session_id, reason=failure_reason)
                self.sessions.pop(session.session_id, None)
        elif status == "off":
            emit("session_ended", session_id=session.session_id)
            self.sessions.pop(session.session_id, None)

    def send_stop(self, session):
        iq = self.make_iq_set(ito=session.current)
        element = ET.Element("{%s}jibri" % JIBRI_NS)
        element.set("action", "stop")
        element.set("session_id", session.session_id)
        iq.append(element)
        # Fire and forget (Jicofo since 2026-03); the answer is printed when it comes.
        future = iq.send(timeout=120)

        def answered(done):
            try:
                reply = done.result()
                jibri = reply.xml.find("{%s}jibri" % JIBRI_NS)
                emit("stop_reply", session_id=session.session_id, **(dict(jibri.attrib) if jibri is not None else {}))
            except Exception as error:  # noqa: BLE001 - printed for the test
                emit("stop_reply", session_id=session.session_id, status="error", detail=type(error).__name__)
        future.add_done_callback(answered)

    def stop(self, session_id):
        session = self.sessions.pop(session_id, None)
        if session is None or session.current is None:
            emit("error", detail="no session %s" % session_id)
            return
        self.send_stop(session)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca")
    parser.add_argument("--brewery", required=True)
    parser.add_argument("--nick", default="focus")
    parser.add_argument("--num-retries", type=int, default=5)
    parser.add_argument("--pending-timeout", type=float, default=90.0)
    args = parser.parse_args()
    jicofo = Jicofo(args)
    jicofo.connect((args.host, args.port))
    jicofo.process(forever=False)


if __name__ == "__main__":
    main()
