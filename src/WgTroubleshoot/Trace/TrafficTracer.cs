using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace WgTroubleshoot.Trace
{
    /// <summary>WireGuard message types: the first byte of the UDP payload, followed by three zero bytes.</summary>
    public enum WgMessageType
    {
        NotWireGuard = 0,
        Initiation = 1,
        Response = 2,
        CookieReply = 3,
        Data = 4,
    }

    /// <summary>
    /// Counts the WireGuard messages of one interface per remote endpoint and direction, and judges each
    /// endpoint. Plain class: feed it <see cref="UdpDatagram"/>s (from a live capture or a pcap file).
    /// </summary>
    public sealed class TrafficTracer
    {
        public const int InitiationSize = 148;
        public const int ResponseSize = 92;
        public const int CookieReplySize = 64;
        public const int MinDataSize = 32; // header 16 + tag 16: an empty data message is a keepalive

        private readonly Dictionary<string, TrafficTrace> _byEndpoint = new Dictionary<string, TrafficTrace>(StringComparer.OrdinalIgnoreCase);
        private readonly IDictionary<string, string> _peerByEndpoint;
        private readonly object _gate = new object();

        public TrafficTracer(string interfaceName, int listenPort, IDictionary<string, string> peerByEndpoint = null)
        {
            Interface = interfaceName;
            ListenPort = listenPort;
            _peerByEndpoint = peerByEndpoint ?? new Dictionary<string, string>();
        }

        public string Interface { get; }
        public int ListenPort { get; }
        /// <summary>Datagrams counted so far (WireGuard or not).</summary>
        public int PacketCount { get; private set; }

        /// <summary>The message type of a UDP payload, from its first four bytes and its length.</summary>
        public static WgMessageType Classify(byte[] payloadStart, int payloadLength)
        {
            if (payloadStart == null || payloadStart.Length < 4 || payloadLength < 4) return WgMessageType.NotWireGuard;
            if (payloadStart[1] != 0 || payloadStart[2] != 0 || payloadStart[3] != 0) return WgMessageType.NotWireGuard;
            switch (payloadStart[0])
            {
                case 1: return payloadLength == InitiationSize ? WgMessageType.Initiation : WgMessageType.NotWireGuard;
                case 2: return payloadLength == ResponseSize ? WgMessageType.Response : WgMessageType.NotWireGuard;
                case 3: return payloadLength == CookieReplySize ? WgMessageType.CookieReply : WgMessageType.NotWireGuard;
                // padding to 16 bytes stops at the MTU, so full-size packets need not be a multiple of 16
                case 4: return payloadLength >= MinDataSize ? WgMessageType.Data : WgMessageType.NotWireGuard;
                default: return WgMessageType.NotWireGuard;
            }
        }

        /// <summary>ip:port, or [ipv6]:port as wg prints endpoints; IPv4-mapped IPv6 addresses as IPv4.</summary>
        public static string FormatEndpoint(IPAddress address, int port)
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            var p = port.ToString(CultureInfo.InvariantCulture);
            return address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]:" + p : address + ":" + p;
        }

        /// <summary>Counts one datagram; returns false when it is not traffic of this listen port.</summary>
        public bool Add(UdpDatagram u)
        {
            if (u == null) return false;
            bool outgoing;
            switch (u.Direction)
            {
                case CaptureDirection.Outgoing:
                    outgoing = true;
                    break;
                case CaptureDirection.Incoming:
                    outgoing = false;
                    break;
                default:
                    if (u.DestinationPort == ListenPort && u.SourcePort != ListenPort) outgoing = false;
                    else if (u.SourcePort == ListenPort) outgoing = true;
                    else if (u.DestinationPort == ListenPort) outgoing = false;
                    else return false;
                    break;
            }
            if (outgoing ? u.SourcePort != ListenPort : u.DestinationPort != ListenPort) return false;
            var remote = outgoing ? FormatEndpoint(u.Destination, u.DestinationPort) : FormatEndpoint(u.Source, u.SourcePort);
            var type = Classify(u.PayloadStart, u.PayloadLength);
            lock (_gate)
            {
                PacketCount++;
                if (!_byEndpoint.TryGetValue(remote, out var t))
                {
                    _peerByEndpoint.TryGetValue(remote, out var peer);
                    t = new TrafficTrace { Interface = Interface, ListenPort = ListenPort, RemoteEndpoint = remote, Peer = peer, FirstSeen = u.TimestampUtc };
                    _byEndpoint.Add(remote, t);
                }
                if (t.FirstSeen == null || u.TimestampUtc < t.FirstSeen) t.FirstSeen = u.TimestampUtc;
                if (t.LastSeen == null || u.TimestampUtc > t.LastSeen) t.LastSeen = u.TimestampUtc;
                if (outgoing) t.BytesOut += u.PayloadLength; else t.BytesIn += u.PayloadLength;
                switch (type)
                {
                    case WgMessageType.Initiation: if (outgoing) t.InitiationsOut++; else t.InitiationsIn++; break;
                    case WgMessageType.Response: if (outgoing) t.ResponsesOut++; else t.ResponsesIn++; break;
                    case WgMessageType.CookieReply: if (outgoing) t.CookiesOut++; else t.CookiesIn++; break;
                    case WgMessageType.Data: if (outgoing) t.DataOut++; else t.DataIn++; break;
                    default: t.OtherPackets++; break;
                }
            }
            return true;
        }

        /// <summary>One judged result per remote endpoint (by first packet), or one NothingReceived result when nothing was seen.</summary>
        public List<TrafficTrace> Results(TimeSpan duration)
        {
            List<TrafficTrace> list;
            lock (_gate) list = _byEndpoint.Values.OrderBy(t => t.FirstSeen).ToList();
            if (list.Count == 0)
                return new List<TrafficTrace> { Nothing(Interface, ListenPort, duration) };
            foreach (var t in list)
            {
                t.Duration = duration;
                Judge(t);
            }
            return list;
        }

        /// <summary>The result when the capture saw no packet at all on the listen port.</summary>
        public static TrafficTrace Nothing(string interfaceName, int listenPort, TimeSpan duration)
            => new TrafficTrace
            {
                Interface = interfaceName,
                ListenPort = listenPort,
                Duration = duration,
                Verdict = nameof(TrafficVerdict.NothingReceived),
                Reason = $"No WireGuard packet arrived at or left UDP port {listenPort} in {Seconds(duration)}. If a peer should be sending "
                       + "(persistent keepalive or traffic), its packets are dropped before this host: an upstream or cloud firewall, a "
                       + "router without port forwarding, or a peer whose Endpoint names a wrong address or port. This side sent nothing "
                       + "either: it had no traffic for the tunnel or knows no endpoint to send to.",
            };

        /// <summary>Sets <see cref="TrafficTrace.Verdict"/> and <see cref="TrafficTrace.Reason"/> from the counters.</summary>
        public static void Judge(TrafficTrace t)
        {
            var who = t.RemoteEndpoint + (t.Peer != null ? " (peer " + t.Peer + ")" : " (no peer has this endpoint)");
            int handshakesIn = t.InitiationsIn + t.ResponsesIn;
            bool handshake = t.ResponsesIn > 0 || t.ResponsesOut > 0;

            if (t.PacketsIn == 0)
            {
                t.Verdict = nameof(TrafficVerdict.NothingReceived);
                t.Reason = $"{Count(t.PacketsOut, "packet")} left for {who} ({Count(t.InitiationsOut, "handshake initiation")}, {Count(t.DataOut, "data message")}) "
                         + $"and nothing came back in {Seconds(t.Duration)}. The packets are lost on the way or dropped before the peer's "
                         + "WireGuard: a wrong Endpoint address or port, a firewall on the path or at the peer, or the peer is down. "
                         + "A trace on the peer tells which: if nothing arrives there, the path or its firewall drops them.";
                return;
            }
            if (t.InitiationsIn > 0 && t.ResponsesOut == 0 && t.DataIn == 0)
            {
                t.Verdict = nameof(TrafficVerdict.InitiationsUnanswered);
                t.Reason = $"{Count(t.InitiationsIn, "handshake initiation")} arrived from {who} and no response left. The capture sees packets "
                         + "before the local firewall (tcpdump taps them ahead of netfilter), so either a local firewall rule (nftables/iptables "
                         + $"input) drops UDP port {t.ListenPort} before WireGuard, or WireGuard rejected the initiation: the sender's public key "
                         + "is not a peer of this interface (a key mismatch), or a clock/replay problem. Check the input chain first, then compare keys."
                         + (t.CookiesOut > 0 ? $" WireGuard answered {Count(t.CookiesOut, "cookie reply", "cookie replies")}: it is under load." : "");
                return;
            }
            if (t.DataIn > 0 && t.DataOut > 0)
            {
                t.Verdict = nameof(TrafficVerdict.Healthy);
                t.Reason = $"Data flows both ways with {who}: {t.DataIn} in, {t.DataOut} out"
                         + (handshake ? ", after a handshake during the capture." : " (the session was established before the capture).");
                return;
            }
            if (handshake)
            {
                t.Verdict = nameof(TrafficVerdict.HandshakeWithoutData);
                var missing = t.DataIn == 0 && t.DataOut == 0 ? "no data message in either direction"
                            : t.DataIn == 0 ? $"{Count(t.DataOut, "data message")} sent and none received"
                            : $"{Count(t.DataIn, "data message")} received and none sent back";
                t.Reason = $"The handshake with {who} completed, but {missing}. Keys and the UDP path work; look at what is inside the tunnel: "
                         + "AllowedIPs on either side (packets from a source the peer does not allow are dropped after decryption), routes, "
                         + "forwarding and NAT on the server, or no traffic was sent during the capture.";
                return;
            }
            if (t.DataIn > 0)
            {
                t.Verdict = nameof(TrafficVerdict.Healthy);
                t.Reason = $"{Count(t.DataIn, "data message")} arrived from {who} on an established session and nothing needed an answer "
                         + "during the capture (keepalives are not answered). Generate traffic in both directions for a stronger check.";
                return;
            }
            // Only cookie replies or stray responses arrived.
            t.Verdict = t.InitiationsOut > 0 ? nameof(TrafficVerdict.InitiationsUnanswered) : nameof(TrafficVerdict.NothingReceived);
            t.Reason = t.CookiesIn > 0
                ? $"{who} answered {Count(t.InitiationsOut, "initiation")} only with {Count(t.CookiesIn, "cookie reply", "cookie replies")}: the peer is under load and asks to retry; no handshake completed."
                : $"Only {Count(handshakesIn + t.OtherPackets, "unexpected packet")} arrived from {who}; no handshake completed and no data flowed.";
        }

        private static string Seconds(TimeSpan d) => d.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";

        private static string Count(int n, string singular, string plural = null)
            => n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? singular : plural ?? singular + "s");
    }
}
