using System;
using System.IO;
using System.Linq;
using WgTroubleshoot.Trace;
using Xunit;
using static WgTroubleshoot.Tests.Trace.PacketBuilder;

namespace WgTroubleshoot.Tests.Trace
{
    public class PcapAndDecoderTests
    {
        internal static string Corpus(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "trace", name);

        internal static PcapPacket[] ReadAll(byte[] bytes)
        {
            var r = new PcapReader(new MemoryStream(bytes));
            return Enumerable.Range(0, 10000).Select(_ => r.ReadPacket()).TakeWhile(p => p != null).ToArray();
        }

        [Fact]
        public void ReadsARealAnyInterfaceCaptureAsLinuxSll2()
        {
            var packets = ReadAll(File.ReadAllBytes(Corpus("server-healthy.pcap")));
            Assert.Equal(6, packets.Length);
            Assert.All(packets, p => Assert.Equal(PacketDecoder.LinkLinuxSll2, p.LinkType));
            var first = PacketDecoder.Decode(packets[0]);
            Assert.Equal(CaptureDirection.Incoming, first.Direction);
            Assert.Equal("198.51.100.2", first.Source.ToString());
            Assert.Equal("198.51.100.1", first.Destination.ToString());
            Assert.Equal(51820, first.DestinationPort);
            Assert.Equal(148, first.PayloadLength);
            Assert.Equal(WgMessageType.Initiation, TrafficTracer.Classify(first.PayloadStart, first.PayloadLength));
            var second = PacketDecoder.Decode(packets[1]);
            Assert.Equal(CaptureDirection.Outgoing, second.Direction);
            Assert.Equal(WgMessageType.Response, TrafficTracer.Classify(second.PayloadStart, second.PayloadLength));
            Assert.Equal(DateTimeKind.Utc, packets[0].TimestampUtc.Kind);
            Assert.Equal(2026, packets[0].TimestampUtc.Year);
            Assert.True(packets[5].TimestampUtc > packets[0].TimestampUtc);
        }

        [Fact]
        public void ReadsARealLinuxSllCaptureWithIPv6()
        {
            var packets = ReadAll(File.ReadAllBytes(Corpus("server-ipv6-sll.pcap")));
            Assert.All(packets, p => Assert.Equal(PacketDecoder.LinkLinuxSll, p.LinkType));
            var v6 = packets.Select(PacketDecoder.Decode).Where(u => u.Source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).ToList();
            Assert.Equal(4, v6.Count);
            Assert.Equal("2001:db8:51::2", v6[0].Source.ToString());
            Assert.Equal(CaptureDirection.Incoming, v6[0].Direction);
            Assert.Equal(CaptureDirection.Outgoing, v6[1].Direction);
        }

        [Theory]
        [InlineData(false, false)]
        [InlineData(true, false)]
        [InlineData(false, true)]
        [InlineData(true, true)]
        public void ReadsBothTimestampPrecisionsAndByteOrders(bool nano, bool bigEndian)
        {
            var t = new DateTime(2026, 11, 24, 20, 0, 0, DateTimeKind.Utc).AddTicks(1234560);
            var frame = Sll2(IPv4("198.51.100.2", "198.51.100.1", Udp(40000, 51820, WgPayload(1, 148))), false);
            var packets = ReadAll(Pcap(PacketDecoder.LinkLinuxSll2, new[] { (t, frame) }, nano, bigEndian));
            var p = Assert.Single(packets);
            Assert.Equal(t, p.TimestampUtc);
            Assert.Equal(frame, p.Data);
        }

        [Fact]
        public void ARecordCutShortEndsTheStreamQuietly()
        {
            var frame = Sll2(IPv4("198.51.100.2", "198.51.100.1", Udp(40000, 51820, WgPayload(1, 148))), false);
            var bytes = Pcap(PacketDecoder.LinkLinuxSll2, new[] { (DateTime.UtcNow, frame), (DateTime.UtcNow, frame) });
            Assert.Single(ReadAll(bytes.Take(bytes.Length - 10).ToArray()));
            Assert.Empty(ReadAll(new byte[0]));
        }

        [Fact]
        public void RejectsWhatIsNotPcap()
        {
            Assert.Throws<InvalidDataException>(() => ReadAll(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }));
            Assert.Throws<InvalidDataException>(() => ReadAll(System.Text.Encoding.ASCII.GetBytes("tcpdump: listening on any, link-type")));
        }

        [Fact]
        public void DecodesEthernetWithAVlanTagAndIPv4Options()
        {
            var frame = Ethernet(IPv4("203.0.113.9", "192.0.2.1", Udp(51820, 51820, WgPayload(4, 48)), optionWords: 2), vlan: 42);
            var u = PacketDecoder.Decode(PacketDecoder.LinkEthernet, frame, DateTime.UtcNow);
            Assert.Equal("203.0.113.9", u.Source.ToString());
            Assert.Equal(48, u.PayloadLength);
            Assert.Equal(CaptureDirection.Unknown, u.Direction);
            Assert.Equal(WgMessageType.Data, TrafficTracer.Classify(u.PayloadStart, u.PayloadLength));
        }

        [Fact]
        public void DecodesRawIPv6WithAFragmentHeaderAndSkipsLaterFragments()
        {
            var first = IPv6("2001:db8::2", "2001:db8::1", Udp(40000, 51820, WgPayload(1, 148)), fragmentHeader: true, fragOffset: 0);
            var u = PacketDecoder.Decode(PacketDecoder.LinkRaw, first, DateTime.UtcNow);
            Assert.Equal(51820, u.DestinationPort);
            var later = IPv6("2001:db8::2", "2001:db8::1", Udp(40000, 51820, WgPayload(1, 148)), fragmentHeader: true, fragOffset: 100);
            Assert.Null(PacketDecoder.Decode(PacketDecoder.LinkRaw, later, DateTime.UtcNow));
            Assert.Null(PacketDecoder.Decode(PacketDecoder.LinkRaw, IPv4("192.0.2.2", "192.0.2.1", Udp(1, 2, new byte[4]), fragOffset: 10), DateTime.UtcNow));
        }

        [Fact]
        public void TruncatedOrUnknownFramesGiveNull()
        {
            var frame = Sll2(IPv4("198.51.100.2", "198.51.100.1", Udp(40000, 51820, WgPayload(1, 148))), false);
            Assert.Null(PacketDecoder.Decode(PacketDecoder.LinkLinuxSll2, frame.Take(30).ToArray(), DateTime.UtcNow));
            Assert.Null(PacketDecoder.Decode(147, frame, DateTime.UtcNow));
            Assert.Null(PacketDecoder.Decode(PacketDecoder.LinkLinuxSll2, new byte[5], DateTime.UtcNow));
        }

        [Fact]
        public void ASnapshotShorterThanThePayloadStillClassifies()
        {
            var frame = Sll(IPv4("198.51.100.2", "198.51.100.1", Udp(40000, 51820, WgPayload(1, 148))), false);
            var packets = ReadAll(Pcap(PacketDecoder.LinkLinuxSll, new[] { (DateTime.UtcNow, frame) }, snap: 64));
            var u = PacketDecoder.Decode(packets[0]);
            Assert.Equal(148, u.PayloadLength);
            Assert.True(u.PayloadStart.Length < 148);
            Assert.Equal(WgMessageType.Initiation, TrafficTracer.Classify(u.PayloadStart, u.PayloadLength));
        }

        [Theory]
        [InlineData(1, 148, WgMessageType.Initiation)]
        [InlineData(1, 147, WgMessageType.NotWireGuard)]
        [InlineData(2, 92, WgMessageType.Response)]
        [InlineData(3, 64, WgMessageType.CookieReply)]
        [InlineData(4, 32, WgMessageType.Data)]
        [InlineData(4, 1452, WgMessageType.Data)]
        [InlineData(4, 1451, WgMessageType.Data)]
        [InlineData(4, 31, WgMessageType.NotWireGuard)]
        [InlineData(5, 148, WgMessageType.NotWireGuard)]
        public void ClassifiesByTypeAndSize(int type, int length, WgMessageType expected)
            => Assert.Equal(expected, TrafficTracer.Classify(WgPayload(type, length), length));

        [Fact]
        public void NonZeroReservedBytesAreNotWireGuard()
        {
            var p = WgPayload(1, 148);
            p[2] = 1;
            Assert.Equal(WgMessageType.NotWireGuard, TrafficTracer.Classify(p, 148));
        }
    }
}
