using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Diagnosis;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>Facts derived from one interface's part of a snapshot, shared by the collector and the checks (pure).</summary>
    public static class InterfaceFacts
    {
        /// <summary>
        /// A server waits for clients: it has a ListenPort in its config (or live, when there is no config) and at
        /// least one peer it does not know an endpoint for in its config.
        /// </summary>
        public static bool IsServer(InterfaceSnapshot i)
        {
            if (i.Config != null && i.Config.Parsed) return i.Config.IsServer;
            var last = i.Last;
            return last != null && last.Interface.ListenPort.HasValue && last.Peers.Any(p => string.IsNullOrEmpty(p.Endpoint));
        }

        /// <summary>Each peer's handshake verdict from the first and last sample, by public key (one pass, no per-peer search).</summary>
        public static Dictionary<string, HandshakeResult> Handshakes(InterfaceSnapshot i)
        {
            var result = new Dictionary<string, HandshakeResult>(StringComparer.Ordinal);
            var last = i.Last;
            if (last == null) return result;
            var first = i.Samples.Count > 1 ? i.First : null;
            double seconds = first != null ? Math.Max(0, (last.Taken - first.Taken).TotalSeconds) : 0;
            var before = new Dictionary<string, WgPeer>(StringComparer.Ordinal);
            if (first != null) foreach (var p in first.Peers) if (p.PublicKey != null && !before.ContainsKey(p.PublicKey)) before.Add(p.PublicKey, p);
            foreach (var p in last.Peers)
            {
                if (p.PublicKey == null || result.ContainsKey(p.PublicKey)) continue;
                before.TryGetValue(p.PublicKey, out var b);
                // The sample time asked for names the window (as Test-WgHandshake says it); the measured one can be a little longer.
                result[p.PublicKey] = HandshakeEvaluator.Evaluate(first != null ? b : null, p, first != null ? Math.Round(seconds, 1) : 0);
            }
            // One-way only from a probe that got no answer, never from a lone keepalive (Liveness/ProbeVerdict).
            Liveness.ProbeVerdict.Apply(result, i.Probes, first != null);
            return result;
        }

        /// <summary>The collector's rule for looking at the wire: a listen port, and a peer whose handshakes fail (or, on a server, one never seen).</summary>
        public static string CaptureReason(InterfaceSnapshot i, IEnumerable<HandshakeResult> handshakes)
        {
            var last = i.Last;
            if (last == null || !last.Interface.ListenPort.HasValue) return null;
            bool server = IsServer(i);
            var hit = handshakes.FirstOrDefault(h => h.Status == nameof(HandshakeStatus.Stale) || h.Status == nameof(HandshakeStatus.NeverEstablished)
                                                     || (server && h.Status == nameof(HandshakeStatus.AwaitingPeer)));
            return hit == null ? null : $"peer {hit.Name ?? hit.Peer} is {hit.Status}";
        }

        /// <summary>
        /// Why the handshake lines of the log are worth reading for this interface: a failing peer (as for a capture),
        /// or, on a server, a peer whose session expired and who sends nothing that counts. A responder's counters do
        /// not move for initiations it rejects (a replay, a clock gone backwards on the initiator), so such a peer
        /// reads as Idle; only the log tells. Null when nothing calls for it.
        /// </summary>
        public static string LogReason(InterfaceSnapshot i, IEnumerable<HandshakeResult> handshakes)
        {
            var list = handshakes.ToList();
            var reason = CaptureReason(i, list);
            if (reason != null || i.Last == null || !IsServer(i)) return reason;
            var hit = list.FirstOrDefault(h => h.Status == nameof(HandshakeStatus.Idle) && h.LatestHandshake.HasValue);
            return hit == null ? null : $"peer {hit.Name ?? hit.Peer} had a session that expired";
        }
    }
}
