using System;
using System.IO;

namespace WgTroubleshoot.Trace
{
    /// <summary>One captured frame: when, which link-layer header, the captured bytes and the length on the wire.</summary>
    public sealed class PcapPacket
    {
        public PcapPacket(DateTime timestampUtc, int linkType, byte[] data, int originalLength)
        {
            TimestampUtc = timestampUtc;
            LinkType = linkType;
            Data = data;
            OriginalLength = originalLength;
        }

        public DateTime TimestampUtc { get; }
        public int LinkType { get; }
        public byte[] Data { get; }
        public int OriginalLength { get; }
    }

    /// <summary>
    /// Reads the classic pcap format (what `tcpdump -w -` writes) from a stream as it arrives: micro- or
    /// nanosecond timestamps, either byte order. A record cut short at the end (the writer was stopped)
    /// ends the stream quietly; anything that is not pcap is an <see cref="InvalidDataException"/>.
    /// </summary>
    public sealed class PcapReader
    {
        public const uint MagicMicro = 0xa1b2c3d4;
        public const uint MagicNano = 0xa1b23c4d;
        private const uint PcapNgMagic = 0x0a0d0d0a;
        private const int MaxRecord = 256 * 1024;

        private readonly Stream _stream;
        private readonly byte[] _header = new byte[16];
        private bool _swap;
        private bool _nano;

        public PcapReader(Stream stream)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        }

        /// <summary>The link-layer type from the file header (113 LINUX_SLL, 276 LINUX_SLL2, 1 Ethernet, ...).</summary>
        public int LinkType { get; private set; } = -1;
        public int SnapLength { get; private set; }
        public bool HeaderRead => LinkType >= 0;

        /// <summary>Reads the 24-byte file header; false when the stream ends before any byte arrives.</summary>
        public bool ReadHeader()
        {
            var h = new byte[24];
            int n = ReadFull(h, 0, 24);
            if (n == 0) return false;
            if (n < 24) throw new InvalidDataException($"The capture ended inside its 24-byte pcap header ({n} bytes).");
            uint magic = BitConverter.ToUInt32(h, 0);
            if (magic == MagicMicro || magic == MagicNano) { _swap = false; _nano = magic == MagicNano; }
            else
            {
                uint swapped = Swap(magic);
                if (swapped == MagicMicro || swapped == MagicNano) { _swap = true; _nano = swapped == MagicNano; }
                else if (magic == PcapNgMagic) throw new InvalidDataException("The capture is in pcapng format; only classic pcap (tcpdump -w) is read.");
                else throw new InvalidDataException($"Not a pcap stream (magic 0x{magic:x8}).");
            }
            SnapLength = (int)U32(h, 16);
            LinkType = (int)(U32(h, 20) & 0x0FFFFFFF);
            return true;
        }

        /// <summary>The next packet, or null at the end of the stream (including a final record cut short).</summary>
        public PcapPacket ReadPacket()
        {
            if (!HeaderRead && !ReadHeader()) return null;
            int n = ReadFull(_header, 0, 16);
            if (n < 16) return null;
            long sec = U32(_header, 0);
            long frac = U32(_header, 4);
            int incl = (int)U32(_header, 8);
            int orig = (int)U32(_header, 12);
            if (incl < 0 || incl > MaxRecord) throw new InvalidDataException($"A pcap record claims {incl} captured bytes; the stream is not pcap or is corrupt.");
            var data = new byte[incl];
            if (ReadFull(data, 0, incl) < incl) return null;
            long ticks = sec * TimeSpan.TicksPerSecond + (_nano ? frac / 100 : frac * 10);
            var ts = new DateTime(DateTime.SpecifyKind(new DateTime(1970, 1, 1), DateTimeKind.Utc).Ticks + ticks, DateTimeKind.Utc);
            return new PcapPacket(ts, LinkType, data, orig);
        }

        private int ReadFull(byte[] buffer, int offset, int count)
        {
            int total = 0;
            while (total < count)
            {
                int r = _stream.Read(buffer, offset + total, count - total);
                if (r <= 0) break;
                total += r;
            }
            return total;
        }

        private uint U32(byte[] b, int o)
        {
            uint v = BitConverter.ToUInt32(b, o);
            return _swap ? Swap(v) : v;
        }

        private static uint Swap(uint v) => (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    }
}
