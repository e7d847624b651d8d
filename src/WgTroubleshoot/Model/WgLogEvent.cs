using System;

namespace WgTroubleshoot
{
    /// <summary>What a WireGuard log line says happened.</summary>
    public enum WgLogEventType
    {
        Other,
        /// <summary>A handshake got no answer in 5 s and is sent again (or: nothing heard back, new handshake).</summary>
        HandshakeRetry,
        /// <summary>Retries stopped after 90 s (20 attempts) of no answer.</summary>
        HandshakeGaveUp,
        /// <summary>An initiation that does not decrypt with this side's keys: unknown or wrong public key.</summary>
        InvalidInitiation,
        /// <summary>A handshake response that does not match.</summary>
        InvalidResponse,
        /// <summary>A decrypted packet whose inner source address is outside the peer's AllowedIPs.</summary>
        UnallowedSourceIp,
        KeypairCreated,
        KeypairDestroyed,
        /// <summary>A handshake initiation sent.</summary>
        HandshakeSent,
        /// <summary>A handshake initiation received.</summary>
        HandshakeReceived,
        /// <summary>A handshake response sent.</summary>
        HandshakeResponseSent,
        /// <summary>A handshake response received: the handshake completed.</summary>
        HandshakeResponseReceived,
        CookieSent,
        CookieReceived,
        KeepaliveSent,
        KeepaliveReceived,
        /// <summary>All session keys of a peer were zeroed after 540 s without a new one.</summary>
        KeysZeroed,
        InterfaceUp,
        InterfaceDown,
        PeerCreated,
        PeerRemoved,
        /// <summary>An initiation whose timestamp is not newer than the last one accepted (wireguard-go "handshake replay"): the initiator's clock went backwards, or a replay.</summary>
        HandshakeReplay,
    }

    /// <summary>One WireGuard log line (kernel module or wireguard-go), typed.</summary>
    public sealed class WgLogEvent
    {
        /// <summary>When the line was logged, in local time; null when the line has no wall-clock time (plain dmesg).</summary>
        public DateTime? Time { get; set; }
        public string Interface { get; set; }
        /// <summary>The peer as the line names it: the kernel's peer number ("7") or wireguard-go's key fragment ("P0ve…VrRU").</summary>
        public string Peer { get; set; }
        /// <summary>The remote endpoint the line names, as printed (ip:port or [ipv6]:port).</summary>
        public string Endpoint { get; set; }
        public WgLogEventType EventType { get; set; }
        /// <summary>The message without the timestamp and source prefixes.</summary>
        public string Message { get; set; }
        /// <summary>"kernel" or "wireguard-go".</summary>
        public string Source { get; set; }
        /// <summary>The line as read.</summary>
        public string Line { get; set; }
        /// <summary>The file the line came from (with -Path); null for the journal or the kernel ring buffer.</summary>
        public string Path { get; set; }
        /// <summary>The line number in <see cref="Path"/>.</summary>
        public int? LineNumber { get; set; }

        public override string ToString()
            => $"{(Time.HasValue ? Time.Value.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " " : "")}{Interface}: {EventType} {Message}";
    }
}
