using System;
using System.Collections.Generic;
using System.IO;
using System.Net;

namespace WgTroubleshoot.Tests.Trace
{
    /// <summary>Builds synthetic frames and pcap streams for the tests.</summary>
    internal static class PacketBuilder
    {
        public static byte[] WgPayload(int type, int length)
        {
            var p = new byte[length];
            p[0] = (byte)type;
            for (int i = 4; i < length; i++) p[i] = (byte)(i * 7);
            return p;
        }

        public static byte[] Udp(int srcPort, int dstPort, byte[] payload)
        {
            var u = new byte[8 + payload.Length];
            Put16(u, 0, srcPort); Put16(u, 2, dstPort); Put16(u, 4, u.Length);
            Buffer.BlockCopy(payload, 0, u, 8, payload.Length);
            return u;
        }

        public static byte[] IPv4(string src, string dst, byte[] udp, int fragOffset = 0, int optionWords = 0)
        {
            int ihl = 20 + optionWords * 4;
            var ip = new byte[ihl + udp.Length];
            ip[0] = (byte)(0x40 | (ihl / 4));
            Put16(ip, 2, ip.Length);
            Put16(ip, 6, fragOffset);
            ip[8] = 64; ip[9] = 17;
            Buffer.BlockCopy(IPAddress.Parse(src).GetAddressBytes(), 0, ip, 12, 4);
            Buffer.BlockCopy(IPAddress.Parse(dst).GetAddressBytes(), 0, ip, 16, 4);
            Buffer.BlockCopy(udp, 0, ip, ihl, udp.Length);
            return ip;
        }

        public static byte[] IPv6(string src, string dst, byte[] udp, bool fragmentHeader = false, int fragOffset = 0)
        {
            int ext = fragmentHeader ? 8 : 0;
            var ip = new byte[40 + ext + udp.Length];
            ip[0] = 0x60;
            Put16(ip, 4, ext + udp.Length);
            ip[6] = (byte)(fragmentHeader ? 44 : 17);
            ip[7] = 64;
            Buffer.BlockCopy(IPAddress.Parse(src).GetAddressBytes(), 0, ip, 8, 16);
            Buffer.BlockCopy(IPAddress.Parse(dst).GetAddressBytes(), 0, ip, 24, 16);
            if (fragmentHeader)
            {
                ip[40] = 17;
                Put16(ip, 42, fragOffset << 3);
            }
            Buffer.BlockCopy(udp, 0, ip, 40 + ext, udp.Length);
            return ip;
        }

        public static byte[] Sll2(byte[] ip, bool outgoing)
        {
            var f = new byte[20 + ip.Length];
            Put16(f, 0, (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
            f[7] = 2; // ifindex
            Put16(f, 8, 1);
            f[10] = (byte)(outgoing ? 4 : 0);
            f[11] = 6;
            Buffer.BlockCopy(ip, 0, f, 20, ip.Length);
            return f;
        }

        public static byte[] Sll(byte[] ip, bool outgoing)
        {
            var f = new byte[16 + ip.Length];
            Put16(f, 0, outgoing ? 4 : 0);
            Put16(f, 2, 1);
            Put16(f, 4, 6);
            Put16(f, 14, (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
            Buffer.BlockCopy(ip, 0, f, 16, ip.Length);
            return f;
        }

        public static byte[] Ethernet(byte[] ip, int? vlan = null)
        {
            int tag = vlan.HasValue ? 4 : 0;
            var f = new byte[14 + tag + ip.Length];
            for (int i = 0; i < 12; i++) f[i] = (byte)(0x02 + i);
            if (vlan.HasValue)
            {
                Put16(f, 12, 0x8100);
                Put16(f, 14, vlan.Value);
            }
            Put16(f, 12 + tag, (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
            Buffer.BlockCopy(ip, 0, f, 14 + tag, ip.Length);
            return f;
        }

        /// <summary>A pcap stream; nanosecond timestamps and big-endian byte order on request.</summary>
        public static byte[] Pcap(int linkType, IEnumerable<(DateTime time, byte[] frame)> packets, bool nano = false, bool bigEndian = false, int snap = 262144)
        {
            var ms = new MemoryStream();
            void W32(uint v)
            {
                var b = BitConverter.GetBytes(v);
                if (BitConverter.IsLittleEndian == bigEndian) Array.Reverse(b);
                ms.Write(b, 0, 4);
            }
            void W16(ushort v)
            {
                var b = BitConverter.GetBytes(v);
                if (BitConverter.IsLittleEndian == bigEndian) Array.Reverse(b);
                ms.Write(b, 0, 2);
            }
            W32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
            W16(2); W16(4); W32(0); W32(0); W32((uint)snap); W32((uint)linkType);
            foreach (var (time, frame) in packets)
            {
                var since = time.ToUniversalTime() - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
                long sec = since.Ticks / TimeSpan.TicksPerSecond;
                long rem = since.Ticks % TimeSpan.TicksPerSecond;
                W32((uint)sec);
                W32((uint)(nano ? rem * 100 : rem / 10));
                int incl = Math.Min(frame.Length, snap);
                W32((uint)incl); W32((uint)frame.Length);
                ms.Write(frame, 0, incl);
            }
            return ms.ToArray();
        }

        private static void Put16(byte[] b, int o, int v)
        {
            b[o] = (byte)(v >> 8);
            b[o + 1] = (byte)v;
        }
    }
}
