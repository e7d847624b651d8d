using System;
using System.Net;

namespace WgTroubleshoot.Trace
{
    /// <summary>Which way a packet went, as the capture's link layer says (Linux cooked headers); Unknown otherwise.</summary>
    public enum CaptureDirection
    {
        Unknown,
        Incoming,
        Outgoing,
    }

    /// <summary>A UDP datagram taken out of a captured frame.</summary>
    public sealed class UdpDatagram
    {
        public DateTime TimestampUtc { get; set; }
        public CaptureDirection Direction { get; set; }
        public IPAddress Source { get; set; }
        public IPAddress Destination { get; set; }
        public int SourcePort { get; set; }
        public int DestinationPort { get; set; }
        /// <summary>UDP payload length from the UDP header (not limited by the snapshot length).</summary>
        public int PayloadLength { get; set; }
        /// <summary>The captured start of the payload (may be shorter than <see cref="PayloadLength"/>).</summary>
        public byte[] PayloadStart { get; set; }
    }

    /// <summary>
    /// Decodes captured frames down to UDP: link types LINUX_SLL (113) and LINUX_SLL2 (276) from `-i any`,
    /// Ethernet (1, with 802.1Q/802.1ad tags), raw IP (101, 12, 14), IPv4 (228), IPv6 (229) and BSD
    /// loopback (0, 108); IPv4 with options, IPv6 with extension headers. Anything else, non-first
    /// fragments and truncated headers give null.
    /// </summary>
    public static class PacketDecoder
    {
        public const int LinkNull = 0;
        public const int LinkEthernet = 1;
        public const int LinkRawOpenBsd = 12;
        public const int LinkRawBsdOs = 14;
        public const int LinkRaw = 101;
        public const int LinkLoop = 108;
        public const int LinkLinuxSll = 113;
        public const int LinkIPv4 = 228;
        public const int LinkIPv6 = 229;
        public const int LinkLinuxSll2 = 276;

        private const int PacketOutgoing = 4; // PACKET_OUTGOING in the cooked headers' packet type

        public static UdpDatagram Decode(PcapPacket packet)
            => packet == null ? null : Decode(packet.LinkType, packet.Data, packet.TimestampUtc);

        public static UdpDatagram Decode(int linkType, byte[] d, DateTime timestampUtc)
        {
            if (d == null) return null;
            int off;
            int etherType = -1; // -1: tell by the IP version nibble
            var dir = CaptureDirection.Unknown;
            switch (linkType)
            {
                case LinkLinuxSll:
                    if (d.Length < 16) return null;
                    dir = U16(d, 0) == PacketOutgoing ? CaptureDirection.Outgoing : CaptureDirection.Incoming;
                    etherType = U16(d, 14);
                    off = 16;
                    break;
                case LinkLinuxSll2:
                    if (d.Length < 20) return null;
                    etherType = U16(d, 0);
                    dir = d[10] == PacketOutgoing ? CaptureDirection.Outgoing : CaptureDirection.Incoming;
                    off = 20;
                    break;
                case LinkEthernet:
                    if (d.Length < 14) return null;
                    etherType = U16(d, 12);
                    off = 14;
                    while ((etherType == 0x8100 || etherType == 0x88a8) && d.Length >= off + 4)
                    {
                        etherType = U16(d, off + 2);
                        off += 4;
                    }
                    break;
                case LinkNull:
                case LinkLoop:
                    if (d.Length < 4) return null;
                    off = 4; // address family in host or network order: tell by the version nibble instead
                    break;
                case LinkRaw:
                case LinkRawOpenBsd:
                case LinkRawBsdOs:
                case LinkIPv4:
                case LinkIPv6:
                    off = 0;
                    break;
                default:
                    return null;
            }
            if (etherType >= 0 && etherType != 0x0800 && etherType != 0x86dd) return null;
            if (d.Length <= off) return null;
            int version = d[off] >> 4;
            UdpDatagram u;
            if (version == 4) u = DecodeIPv4(d, off);
            else if (version == 6) u = DecodeIPv6(d, off);
            else return null;
            if (u == null) return null;
            u.Direction = dir;
            u.TimestampUtc = timestampUtc;
            return u;
        }

        private static UdpDatagram DecodeIPv4(byte[] d, int off)
        {
            if (d.Length < off + 20) return null;
            int ihl = (d[off] & 0x0f) * 4;
            if (ihl < 20 || d.Length < off + ihl) return null;
            if (d[off + 9] != 17) return null;
            int fragOffset = U16(d, off + 6) & 0x1fff;
            if (fragOffset != 0) return null;
            var src = new IPAddress(Slice(d, off + 12, 4));
            var dst = new IPAddress(Slice(d, off + 16, 4));
            return DecodeUdp(d, off + ihl, src, dst);
        }

        private static UdpDatagram DecodeIPv6(byte[] d, int off)
        {
            if (d.Length < off + 40) return null;
            int next = d[off + 6];
            var src = new IPAddress(Slice(d, off + 8, 16));
            var dst = new IPAddress(Slice(d, off + 24, 16));
            int p = off + 40;
            for (int guard = 0; guard < 8; guard++)
            {
                switch (next)
                {
                    case 17:
                        return DecodeUdp(d, p, src, dst);
                    case 0:  // hop-by-hop
                    case 43: // routing
                    case 60: // destination options
                        if (d.Length < p + 2) return null;
                        next = d[p];
                        p += (d[p + 1] + 1) * 8;
                        break;
                    case 44: // fragment
                        if (d.Length < p + 8) return null;
                        if ((U16(d, p + 2) & 0xfff8) != 0) return null; // not the first fragment
                        next = d[p];
                        p += 8;
                        break;
                    default:
                        return null;
                }
            }
            return null;
        }

        private static UdpDatagram DecodeUdp(byte[] d, int p, IPAddress src, IPAddress dst)
        {
            if (d.Length < p + 8) return null;
            int len = U16(d, p + 4);
            int payloadLen = Math.Max(0, len - 8);
            int captured = Math.Min(payloadLen, d.Length - (p + 8));
            return new UdpDatagram
            {
                Source = src,
                Destination = dst,
                SourcePort = U16(d, p),
                DestinationPort = U16(d, p + 2),
                PayloadLength = payloadLen,
                PayloadStart = Slice(d, p + 8, Math.Max(0, captured)),
            };
        }

        private static int U16(byte[] b, int o) => (b[o] << 8) | b[o + 1];

        private static byte[] Slice(byte[] b, int o, int n)
        {
            var r = new byte[n];
            Buffer.BlockCopy(b, o, r, 0, n);
            return r;
        }
    }
}
