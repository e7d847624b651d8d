using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WgTroubleshoot.Logs
{
    /// <summary>
    /// Turns WireGuard log lines into <see cref="WgLogEvent"/>s. Understands the Linux kernel module's
    /// dynamic-debug lines ("wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete ...")
    /// and wireguard-go's ("DEBUG: (wg0) 2026/11/24 20:39:01 peer(P0ve…VrRU) - Handshake did not complete ..."),
    /// bare or behind the prefixes of `journalctl -o short-iso`, `dmesg --time-format iso`, plain `dmesg`
    /// and syslog files. Lines of anything else give null.
    /// </summary>
    public static class WgLogParser
    {
        private const RegexOptions Opts = RegexOptions.CultureInvariant | RegexOptions.Compiled;

        // 2026-11-24T20:39:01+0000, 2026-11-24T20:39:01+00:00, 2026-11-24T20:39:01.123456+00:00, 2026-11-24T20:39:01,123456+00:00, ...Z
        private static readonly Regex IsoPrefix = new Regex(
            @"^(?<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\s+(?<rest>.*)$", Opts);
        // Nov 24 20:39:01 host kernel: ...
        private static readonly Regex SyslogPrefix = new Regex(
            @"^(?<ts>[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2})\s+(?<rest>.*)$", Opts);
        // host ident[pid]: message   (journal and syslog put the host and the identifier before the message)
        private static readonly Regex HostIdent = new Regex(@"^(?<host>\S+)\s+(?<ident>[^\s:\[]+)(?:\[\d+\])?:\s(?<msg>.*)$", Opts);
        // dmesg's own [  123.456789] stamp (also inside kern.log)
        private static readonly Regex KernelStamp = new Regex(@"^\[\s*\d+\.\d+\]\s*(?<msg>.*)$", Opts);
        private static readonly Regex Kernel = new Regex(@"^wireguard:\s+(?<if>[a-zA-Z0-9_=+.-]{1,15}):\s+(?<msg>.*)$", Opts);
        private static readonly Regex Go = new Regex(
            @"^(?:DEBUG|ERROR|INFO|VERBOSE):\s+\((?<if>[^)]{1,64})\)\s+(?<ts>\d{4}/\d{2}/\d{2}\s+\d{2}:\d{2}:\d{2})\s+(?<msg>.*)$", Opts);
        private static readonly Regex GoPeer = new Regex(@"^peer\((?<peer>[^)]+)\)\s+-\s+(?<msg>.*)$", Opts);

        private static readonly Regex KPeerEp = new Regex(@"peer (?<peer>\d+) \((?<ep>[^)]*)\)", Opts);
        private static readonly Regex KFrom = new Regex(@" from (?<ep>\S+?)\s*$", Opts);
        private static readonly Regex KKeypair = new Regex(@"^Keypair (?<kp>\d+) (?<what>created|destroyed) for peer (?<peer>\d+)", Opts);
        private static readonly Regex KPeerOnly = new Regex(@"^Peer (?<peer>\d+)(?: \((?<ep>[^)]*)\))? (?<what>created|destroyed)", Opts);
        private static readonly Regex GoFrom = new Regex(@" from (?<ep>\S+)\s*$", Opts);
        private static readonly Regex GoFromPeer = new Regex(@" from peer\((?<peer>[^)]+)\)\s*$", Opts);

        /// <summary>Parses one line; null when it is not a WireGuard line. <paramref name="now"/> supplies the year of syslog stamps.</summary>
        public static WgLogEvent Parse(string line, DateTime? now = null)
        {
            if (string.IsNullOrWhiteSpace(line)) return null;
            var text = line.TrimEnd('\r', '\n');
            DateTime? time = null;
            var rest = text.Trim();

            var m = IsoPrefix.Match(rest);
            if (m.Success)
            {
                time = ParseIso(m.Groups["ts"].Value);
                rest = StripHostIdent(m.Groups["rest"].Value);
            }
            else if ((m = SyslogPrefix.Match(rest)).Success)
            {
                time = ParseSyslog(m.Groups["ts"].Value, now ?? DateTime.Now);
                rest = StripHostIdent(m.Groups["rest"].Value);
            }
            var ks = KernelStamp.Match(rest);
            if (ks.Success) rest = ks.Groups["msg"].Value;

            var k = Kernel.Match(rest);
            if (k.Success)
            {
                var e = new WgLogEvent { Time = time, Interface = k.Groups["if"].Value, Message = k.Groups["msg"].Value.Trim(), Source = "kernel", Line = text };
                ClassifyKernel(e);
                return e;
            }
            var g = Go.Match(rest);
            if (g.Success)
            {
                var e = new WgLogEvent { Interface = g.Groups["if"].Value, Source = "wireguard-go", Line = text };
                // wireguard-go stamps local time to the second; a journal or syslog stamp, when present, is more exact.
                e.Time = time ?? ParseGoTime(g.Groups["ts"].Value);
                var msg = g.Groups["msg"].Value.Trim();
                var gp = GoPeer.Match(msg);
                if (gp.Success)
                {
                    e.Peer = gp.Groups["peer"].Value;
                    msg = gp.Groups["msg"].Value.Trim();
                }
                e.Message = msg;
                ClassifyGo(e);
                return e;
            }
            return null;
        }

        private static string StripHostIdent(string rest)
        {
            // dmesg --time-format iso puts the message right after the time: no host, no identifier
            if (Kernel.IsMatch(rest) || Go.IsMatch(rest) || KernelStamp.IsMatch(rest)) return rest;
            var h = HostIdent.Match(rest);
            return h.Success ? h.Groups["msg"].Value : rest;
        }

        private static void ClassifyKernel(WgLogEvent e)
        {
            var msg = e.Message;
            var pe = KPeerEp.Match(msg);
            if (pe.Success)
            {
                e.Peer = pe.Groups["peer"].Value;
                e.Endpoint = NullIfEmpty(pe.Groups["ep"].Value);
            }
            Match x;
            if ((x = KKeypair.Match(msg)).Success)
            {
                e.Peer = x.Groups["peer"].Value;
                e.EventType = x.Groups["what"].Value == "created" ? WgLogEventType.KeypairCreated : WgLogEventType.KeypairDestroyed;
                return;
            }
            if ((x = KPeerOnly.Match(msg)).Success)
            {
                e.Peer = x.Groups["peer"].Value;
                e.Endpoint = NullIfEmpty(x.Groups["ep"].Value);
                e.EventType = x.Groups["what"].Value == "created" ? WgLogEventType.PeerCreated : WgLogEventType.PeerRemoved;
                return;
            }
            if (msg.StartsWith("Handshake for peer ", StringComparison.Ordinal))
                e.EventType = msg.IndexOf("giving up", StringComparison.Ordinal) >= 0 ? WgLogEventType.HandshakeGaveUp : WgLogEventType.HandshakeRetry;
            else if (msg.StartsWith("Retrying handshake with peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.HandshakeRetry;
            else if (msg.StartsWith("Invalid handshake initiation from ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.InvalidInitiation;
            else if (msg.StartsWith("Invalid handshake response from ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.InvalidResponse;
            else if (msg.StartsWith("Packet has unallowed src IP", StringComparison.Ordinal))
                e.EventType = WgLogEventType.UnallowedSourceIp;
            else if (msg.StartsWith("Sending handshake initiation to peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.HandshakeSent;
            else if (msg.StartsWith("Receiving handshake initiation from peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.HandshakeReceived;
            else if (msg.StartsWith("Sending handshake response to peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.HandshakeResponseSent;
            else if (msg.StartsWith("Receiving handshake response from peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.HandshakeResponseReceived;
            else if (msg.StartsWith("Sending keepalive packet to peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.KeepaliveSent;
            else if (msg.StartsWith("Receiving keepalive packet from peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.KeepaliveReceived;
            else if (msg.StartsWith("Sending cookie response for denied handshake message for ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.CookieSent;
            else if (msg.StartsWith("Receiving cookie response from ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.CookieReceived;
            else if (msg.StartsWith("Zeroing out all keys for peer ", StringComparison.Ordinal))
                e.EventType = WgLogEventType.KeysZeroed;
            else if (msg.StartsWith("Interface created", StringComparison.Ordinal))
                e.EventType = WgLogEventType.InterfaceUp;
            else if (msg.StartsWith("Interface destroyed", StringComparison.Ordinal))
                e.EventType = WgLogEventType.InterfaceDown;
            else
                e.EventType = WgLogEventType.Other;

            if (e.Endpoint == null && (e.EventType == WgLogEventType.InvalidInitiation || e.EventType == WgLogEventType.InvalidResponse
                                       || e.EventType == WgLogEventType.CookieSent || e.EventType == WgLogEventType.CookieReceived))
            {
                var f = KFrom.Match(msg);
                if (f.Success) e.Endpoint = f.Groups["ep"].Value;
                else
                {
                    int i = msg.LastIndexOf(' ');
                    if (i > 0) e.Endpoint = msg.Substring(i + 1);
                }
            }
        }

        private static void ClassifyGo(WgLogEvent e)
        {
            var msg = e.Message;
            WgLogEventType t;
            if (msg.StartsWith("Handshake did not complete after", StringComparison.Ordinal))
                t = msg.IndexOf("giving up", StringComparison.Ordinal) >= 0 ? WgLogEventType.HandshakeGaveUp : WgLogEventType.HandshakeRetry;
            else if (msg.StartsWith("Retrying handshake because we stopped hearing back", StringComparison.Ordinal))
                t = WgLogEventType.HandshakeRetry;
            else if (msg.StartsWith("Received invalid initiation message from ", StringComparison.Ordinal))
                t = WgLogEventType.InvalidInitiation;
            else if (msg.StartsWith("ConsumeMessageInitiation: handshake replay", StringComparison.Ordinal))
                t = WgLogEventType.HandshakeReplay;
            else if (msg.StartsWith("Received invalid response message from ", StringComparison.Ordinal))
                t = WgLogEventType.InvalidResponse;
            else if (msg.IndexOf("packet with disallowed source address", StringComparison.OrdinalIgnoreCase) >= 0)
                t = WgLogEventType.UnallowedSourceIp;
            else if (msg == "Sending handshake initiation")
                t = WgLogEventType.HandshakeSent;
            else if (msg == "Received handshake initiation")
                t = WgLogEventType.HandshakeReceived;
            else if (msg == "Sending handshake response")
                t = WgLogEventType.HandshakeResponseSent;
            else if (msg == "Received handshake response")
                t = WgLogEventType.HandshakeResponseReceived;
            else if (msg == "Sending keepalive packet")
                t = WgLogEventType.KeepaliveSent;
            else if (msg == "Receiving keepalive packet")
                t = WgLogEventType.KeepaliveReceived;
            else if (msg.StartsWith("Sending cookie response for denied handshake message for ", StringComparison.Ordinal))
                t = WgLogEventType.CookieSent;
            else if (msg.StartsWith("Receiving cookie response from ", StringComparison.Ordinal))
                t = WgLogEventType.CookieReceived;
            else if (msg.StartsWith("Interface state was ", StringComparison.Ordinal) && msg.EndsWith("now Up", StringComparison.Ordinal))
                t = WgLogEventType.InterfaceUp;
            else if ((msg.StartsWith("Interface state was ", StringComparison.Ordinal) && msg.EndsWith("now Down", StringComparison.Ordinal))
                     || msg == "Device closing")
                t = WgLogEventType.InterfaceDown;
            else if (msg == "UAPI: Created")
                t = WgLogEventType.PeerCreated;
            else if (msg == "UAPI: Removing")
                t = WgLogEventType.PeerRemoved;
            else
                t = WgLogEventType.Other;
            e.EventType = t;

            Match f;
            if ((f = GoFromPeer.Match(msg)).Success) e.Peer = e.Peer ?? f.Groups["peer"].Value;
            else if (t == WgLogEventType.InvalidInitiation || t == WgLogEventType.InvalidResponse || t == WgLogEventType.CookieSent || t == WgLogEventType.CookieReceived)
            {
                if ((f = GoFrom.Match(msg)).Success) e.Endpoint = f.Groups["ep"].Value;
                else
                {
                    int i = msg.LastIndexOf(' ');
                    if (i > 0) e.Endpoint = msg.Substring(i + 1);
                }
            }
        }

        private static string NullIfEmpty(string s) => string.IsNullOrEmpty(s) || s == "(null)" ? null : s;

        internal static DateTime? ParseIso(string ts)
        {
            var s = ts.Replace(',', '.');
            // +0000 → +00:00 for the round-trip parser
            var tz = Regex.Match(s, @"([+-])(\d{2})(\d{2})$");
            if (tz.Success) s = s.Substring(0, tz.Index) + tz.Groups[1].Value + tz.Groups[2].Value + ":" + tz.Groups[3].Value;
            // at most 7 fraction digits
            var frac = Regex.Match(s, @"\.(\d{8,9})");
            if (frac.Success) s = s.Substring(0, frac.Index) + "." + frac.Groups[1].Value.Substring(0, 7) + s.Substring(frac.Index + frac.Length);
            if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var dto))
                return dto.LocalDateTime;
            return null;
        }

        private static DateTime? ParseGoTime(string ts)
        {
            if (DateTime.TryParseExact(Regex.Replace(ts, @"\s+", " "), "yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t))
                return DateTime.SpecifyKind(t, DateTimeKind.Local);
            return null;
        }

        private static DateTime? ParseSyslog(string ts, DateTime now)
        {
            var s = Regex.Replace(ts, @"\s+", " ");
            if (!DateTime.TryParseExact(now.Year.ToString(CultureInfo.InvariantCulture) + " " + s, "yyyy MMM d HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t))
                return null;
            if (t > now.AddDays(1)) t = t.AddYears(-1); // a December line read in January
            return DateTime.SpecifyKind(t, DateTimeKind.Local);
        }
    }
}
