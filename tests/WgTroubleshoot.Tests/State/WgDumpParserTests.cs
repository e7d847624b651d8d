using System;
using System.Linq;
using WgTroubleshoot.State;
using Xunit;

namespace WgTroubleshoot.Tests.State
{
    public class WgDumpParserTests
    {
        // Keys made with `wg genkey` for these tests only.
        private const string Priv = "SCOvh68c/9x1fQKlpCuZ05k4bD/gB+QPt0YBkmd2YXE=";
        private const string Pub = "RsxNMUjoNAERKycWzgwmosKwBHu6IX9Ej5SJjVj1+2g=";
        private const string Psk = "BzIcKKubPZI0bvgAbDZoS9/1N6jIYYWYjxUV9q/cK0M=";
        private const string PeerA = "9RbTQsA4buuk5dyIzj7f1giwC6g/z/40qAcawwbnjEA=";
        private const string PeerB = "Ms15Mpjo1cyHnBaZ+NB07DtKeZwYPWyMcKtcL3/UZic=";
        private static readonly DateTime Now = new DateTime(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);
        private static long Unix(DateTime t) => (long)(t - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;

        private static string AllDump() => string.Join("\n",
            $"wg0\t{Priv}\t{Pub}\t51820\toff",
            $"wg0\t{PeerA}\t{Psk}\t198.51.100.7:40000\t192.0.2.2/32,2001:db8::2/128\t{Unix(Now.AddSeconds(-72))}\t1024\t2048\t25",
            $"wg0\t{PeerB}\t(none)\t(none)\t(none)\t0\t0\t0\toff",
            $"wg1\t{Priv}\t{Pub}\t0\t0x1234",
            $"wg1\t{PeerA}\t(none)\t[2001:db8::1]:51820\t0.0.0.0/0\t{Unix(Now.AddSeconds(-5))}\t5\t6\toff") + "\n";

        [Fact]
        public void ParsesInterfacesAndPeers()
        {
            var devs = WgDumpParser.Parse(AllDump(), null, Now);
            Assert.Equal(new[] { "wg0", "wg1" }, devs.Select(d => d.Interface.Name));
            var wg0 = devs[0];
            Assert.Equal(Pub, wg0.Interface.PublicKey);
            Assert.Equal(51820, wg0.Interface.ListenPort);
            Assert.Null(wg0.Interface.FwMark);
            Assert.Equal(2, wg0.Interface.PeerCount);
            var a = wg0.Peers[0];
            Assert.Equal(PeerA, a.PublicKey);
            Assert.True(a.HasPresharedKey);
            Assert.Equal("198.51.100.7:40000", a.Endpoint);
            Assert.Equal(new[] { "192.0.2.2/32", "2001:db8::2/128" }, a.AllowedIPs);
            Assert.Equal(Now.AddSeconds(-72), a.LatestHandshake);
            Assert.Equal(DateTimeKind.Utc, a.LatestHandshake.Value.Kind);
            Assert.Equal(TimeSpan.FromSeconds(72), a.HandshakeAge);
            Assert.Equal(1024, a.RxBytes);
            Assert.Equal(2048, a.TxBytes);
            Assert.Equal(25, a.PersistentKeepalive);
            var b = wg0.Peers[1];
            Assert.False(b.HasPresharedKey);
            Assert.Null(b.Endpoint);
            Assert.Empty(b.AllowedIPs);
            Assert.Null(b.LatestHandshake);
            Assert.Null(b.HandshakeAge);
            Assert.Null(b.PersistentKeepalive);
            var wg1 = devs[1];
            Assert.Null(wg1.Interface.ListenPort);
            Assert.Equal("0x1234", wg1.Interface.FwMark);
            Assert.Equal("[2001:db8::1]:51820", wg1.Peers[0].Endpoint);
        }

        [Fact]
        public void SingleInterfaceDumpHasNoNameColumn()
        {
            var text = $"{Priv}\t{Pub}\t51820\toff\n{PeerA}\t(none)\t(none)\t192.0.2.2/32\t0\t0\t0\toff\n";
            var devs = WgDumpParser.Parse(text, "wg7", Now);
            Assert.Single(devs);
            Assert.Equal("wg7", devs[0].Peers[0].Interface);
        }

        [Fact]
        public void NoObjectCarriesThePrivateOrPresharedKey()
        {
            var devs = WgDumpParser.Parse(AllDump(), null, Now);
            foreach (var d in devs)
            {
                foreach (var o in new object[] { d.Interface }.Concat(d.Peers))
                    foreach (var p in o.GetType().GetProperties())
                    {
                        var v = p.GetValue(o);
                        var s = v is string[] arr ? string.Join(",", arr) : v?.ToString() ?? "";
                        Assert.DoesNotContain(Priv, s);
                        Assert.DoesNotContain(Psk, s);
                    }
            }
        }

        [Theory]
        [InlineData("wg0\tonly\tthree\n")]
        [InlineData("wg0\ta\tb\tc\td\te\tf\n")]
        [InlineData("wg9\tK\t(none)\t(none)\t(none)\t0\t0\t0\toff\n")]
        [InlineData("wg0\tP\tK\tx\toff\nwg0\tK\t(none)\t(none)\t(none)\tnotanumber\t0\t0\toff\n")]
        public void MalformedDumpIsAFormatException(string text)
        {
            Assert.Throws<FormatException>(() => WgDumpParser.Parse(text, null, Now));
        }

        [Fact]
        public void EmptyDumpMeansNoInterfaces() => Assert.Empty(WgDumpParser.Parse("", null, Now));
    }

    public class UapiParserTests
    {
        private static readonly DateTime Now = new DateTime(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);

        [Fact]
        public void ParsesGetReplyAndDerivesThePublicKey()
        {
            // Private key from the dump test above, in hex; its public key is known from `wg pubkey`.
            var privHex = Keys.WgKey.Base64ToHex("SCOvh68c/9x1fQKlpCuZ05k4bD/gB+QPt0YBkmd2YXE=");
            var peerHex = Keys.WgKey.Base64ToHex("9RbTQsA4buuk5dyIzj7f1giwC6g/z/40qAcawwbnjEA=");
            var reply = $"private_key={privHex}\nlisten_port=51820\nfwmark=51\npublic_key={peerHex}\npreshared_key={new string('0', 64)}\n" +
                        "protocol_version=1\nendpoint=[2001:db8::1]:51820\nlast_handshake_time_sec=1795960728\nlast_handshake_time_nsec=500000000\n" +
                        "tx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=0\nallowed_ip=192.0.2.2/32\nallowed_ip=2001:db8::2/128\nerrno=0\n\n";
            var dev = UapiClient.Parse("wgx", reply, Now);
            Assert.Equal("RsxNMUjoNAERKycWzgwmosKwBHu6IX9Ej5SJjVj1+2g=", dev.Interface.PublicKey);
            Assert.Equal(51820, dev.Interface.ListenPort);
            Assert.Equal("0x33", dev.Interface.FwMark);
            var p = Assert.Single(dev.Peers);
            Assert.Equal("9RbTQsA4buuk5dyIzj7f1giwC6g/z/40qAcawwbnjEA=", p.PublicKey);
            Assert.False(p.HasPresharedKey);
            Assert.Equal("[2001:db8::1]:51820", p.Endpoint);
            Assert.Equal(new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(1795960728.5), p.LatestHandshake);
            Assert.Equal(10, p.TxBytes);
            Assert.Equal(20, p.RxBytes);
            Assert.Null(p.PersistentKeepalive);
            Assert.Equal(new[] { "192.0.2.2/32", "2001:db8::2/128" }, p.AllowedIPs);
        }

        [Fact]
        public void NonZeroErrnoIsAnError()
        {
            var ex = Assert.Throws<WgException>(() => UapiClient.Parse("wgx", "errno=13\n\n", Now));
            Assert.Equal(ErrorIds.UapiError, ex.ErrorId);
        }
    }

    public class IpInfoTests
    {
        [Fact]
        public void ParsesLinksAndAddresses()
        {
            var links = IpInfo.ParseLinks(
                "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
                "4: ens3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 0a:00:00:00:00:01\n" +
                "6: wg0: <POINTOPOINT,MULTICAST,NOARP> mtu 1420 qdisc noop state DOWN mode DEFAULT group default qlen 500\\    link/none \n");
            Assert.Equal(1500, links["ens3"].Mtu);
            Assert.True(links["ens3"].AdminUp);
            Assert.False(links["wg0"].AdminUp);
            Assert.Equal("DOWN", links["wg0"].State);
            Assert.Equal("Down", links["wg0"].LinkState);
            Assert.Equal("Up", links["ens3"].LinkState);
            IpInfo.ParseAddresses(
                "4: ens3    inet 203.0.113.2/25 brd 203.0.113.127 scope global ens3\\       valid_lft forever preferred_lft forever\n" +
                "6: wg0    inet 192.0.2.1/26 scope global wg0\\       valid_lft forever preferred_lft forever\n" +
                "6: wg0    inet6 2001:db8:100::1/64 scope global \\       valid_lft forever preferred_lft forever\n", links);
            Assert.Equal(new[] { "192.0.2.1/26", "2001:db8:100::1/64" }, links["wg0"].Addresses);
        }
    }

    public class FormatTests
    {
        [Theory]
        [InlineData(72, "1 minute, 12 seconds ago")]
        [InlineData(1, "1 second ago")]
        [InlineData(0, "Now")]
        [InlineData(3600 * 26 + 5, "1 day, 2 hours, 5 seconds ago")]
        public void AgeReadsLikeWgShow(int seconds, string expected) => Assert.Equal(expected, Format.Age(TimeSpan.FromSeconds(seconds)));

        [Fact]
        public void NoHandshakeReadsNone() => Assert.Equal("(none)", Format.Age(null));

        [Theory]
        [InlineData(512, "512 B")]
        [InlineData(1536, "1.50 KiB")]
        [InlineData(5L * 1024 * 1024, "5.00 MiB")]
        [InlineData(3L * 1024 * 1024 * 1024, "3.00 GiB")]
        public void BytesReadLikeWgShow(long bytes, string expected) => Assert.Equal(expected, Format.Bytes(bytes));
    }
}
