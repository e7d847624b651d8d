using System;
using System.Globalization;
using WgTroubleshoot;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>Judges handshakes from two samples of a peer's counters (WireGuard paper 6.1; wireguard-go constants).</summary>
    public static class HandshakeEvaluator
    {
        /// <summary>Reject-After-Time: a session older than this is unusable.</summary>
        public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);

        /// <param name="first">The peer at the start of the sample (null when only one sample was taken).</param>
        /// <param name="second">The peer at the end of the sample.</param>
        /// <param name="sampleSeconds">The time between the samples.</param>
        public static HandshakeResult Evaluate(WgPeer first, WgPeer second, double sampleSeconds)
        {
            long txDelta = first == null ? 0 : Math.Max(0, second.TxBytes - first.TxBytes);
            long rxDelta = first == null ? 0 : Math.Max(0, second.RxBytes - first.RxBytes);
            bool keepalive = second.PersistentKeepalive.HasValue && second.PersistentKeepalive.Value > 0;
            bool sending = txDelta > 0;
            bool trying = keepalive || sending;
            var r = new HandshakeResult
            {
                Interface = second.Interface,
                Peer = second.PublicKey,
                Name = second.Name,
                Endpoint = second.Endpoint,
                LatestHandshake = second.LatestHandshake,
                HandshakeAge = second.HandshakeAge,
                RxDelta = rxDelta,
                TxDelta = txDelta,
                PersistentKeepalive = second.PersistentKeepalive,
                SampleSeconds = sampleSeconds,
                // A keepalive (a 32-byte transport message) is never answered: keepalives alone going out are not one-way traffic.
                OneWay = first != null && sending && rxDelta == 0 && !KeepalivesOnly(txDelta, sampleSeconds),
            };
            string what = Activity(keepalive, second.PersistentKeepalive, txDelta, sampleSeconds, first != null);
            var age = second.HandshakeAge;
            if (second.LatestHandshake.HasValue && age.HasValue && age.Value <= RejectAfterTime)
            {
                r.Status = nameof(HandshakeStatus.Healthy);
                r.Reason = $"Latest handshake {Format.Age(age)}, within Reject-After-Time (180 s).";
                if (r.OneWay)
                    r.Reason += $" But {txDelta} bytes were sent and nothing was received in {Seconds(sampleSeconds)}: traffic is one-way (the other side drops it: AllowedIPs, forwarding or firewall on its side).";
            }
            else if (second.LatestHandshake.HasValue)
            {
                if (trying)
                {
                    r.Status = nameof(HandshakeStatus.Stale);
                    r.Reason = $"Latest handshake {Format.Age(age)}, older than Reject-After-Time (180 s), while {what}: new handshakes are not completing.";
                }
                else
                {
                    r.Status = nameof(HandshakeStatus.Idle);
                    r.Reason = $"Latest handshake {Format.Age(age)}; no keepalive and nothing sent{(first != null ? " in " + Seconds(sampleSeconds) : "")}: quiet by design.";
                }
            }
            else if (string.IsNullOrEmpty(second.Endpoint))
            {
                r.Status = nameof(HandshakeStatus.AwaitingPeer);
                r.Reason = "No handshake yet and no endpoint known: this side waits for the peer to connect first.";
            }
            else if (trying)
            {
                r.Status = nameof(HandshakeStatus.NeverEstablished);
                r.Reason = $"No handshake ever, while {what} to {second.Endpoint}: the peer does not answer (port blocked, wrong endpoint, or keys that do not match).";
            }
            else
            {
                r.Status = nameof(HandshakeStatus.Idle);
                r.Reason = $"No handshake yet, and nothing tries to send to {second.Endpoint}{(first != null ? " in " + Seconds(sampleSeconds) : "")} (no keepalive): WireGuard connects on the first packet.";
            }
            return r;
        }

        /// <summary>WireGuard's keepalive: a transport message with no payload, 32 bytes on the wire counters.</summary>
        public const int KeepaliveBytes = 32;

        /// <summary>
        /// True when what was sent can only have been keepalives: whole 32-byte messages, no more than a persistent
        /// keepalive and the passive one (Keepalive-Timeout, 10 s) can send in the window. A data packet is at
        /// least 48 bytes (header, padded payload, tag).
        /// </summary>
        public static bool KeepalivesOnly(long txDelta, double sampleSeconds)
            => txDelta > 0 && txDelta % KeepaliveBytes == 0 && txDelta / KeepaliveBytes <= 2 + (long)(sampleSeconds / 10);

        private static string Seconds(double s) => s.ToString("0.#", CultureInfo.InvariantCulture) + " s";

        private static string Activity(bool keepalive, int? interval, long txDelta, double sampleSeconds, bool sampled)
        {
            if (txDelta > 0 && keepalive) return $"{txDelta} bytes were sent in {Seconds(sampleSeconds)} and keepalive is every {interval} s";
            if (txDelta > 0) return $"{txDelta} bytes were sent in {Seconds(sampleSeconds)}";
            return $"keepalive is set to {interval} s";
        }

        /// <summary>The -Quiet answer: true only when no peer is Stale or NeverEstablished.</summary>
        public static bool AllHealthy(System.Collections.Generic.IEnumerable<HandshakeResult> results)
        {
            foreach (var r in results)
                if (r.Status == nameof(HandshakeStatus.Stale) || r.Status == nameof(HandshakeStatus.NeverEstablished)) return false;
            return true;
        }
    }
}
