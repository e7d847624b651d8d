using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Remoting;
using Xunit;

namespace WgTroubleshoot.Tests.Remoting
{
    public class PeerJudgeTests
    {
        private const string ClientKey = "q0cnW2ggDh7jHVG6iqPMsZz3V1n0yZ1hZ3Wt9bCq1Gk=";
        private const string ServerKey = "Ye5ww3UPnQpgr7m0pA0eo6D0dY8nP1x7YpLZ3sC1yEM=";
        private const string OtherKey = "3n0cVu9XhVUmnKxk0e4wQ3kR9t8kq4X2HBfTQmJ0Xm0=";
        private static readonly DateTime T0 = new DateTime(2026, 12, 1, 21, 0, 0, DateTimeKind.Utc);

        private static (EndFacts host, InterfaceFacts i) Client(int keepalive = 25, string psk = "aa", string serverKey = ServerKey)
        {
            var i = new InterfaceFacts { Name = "wgc", PublicKey = ClientKey, ListenPort = 40000, Addresses = { "192.0.2.2/26", "fe80::1/64" } };
            i.Peers.Add(new PeerFacts { PublicKey = serverKey, PresharedKeyHash = psk, Endpoint = "203.0.113.2:51820", AllowedIPs = { "192.0.2.0/26" }, PersistentKeepalive = keepalive, LatestHandshake = 1 });
            var h = new EndFacts { HostName = "client", LocalAddresses = { "127.0.0.1", "198.51.100.2", "192.0.2.2" }, Interfaces = { i } };
            return (h, i);
        }

        private static (EndFacts host, InterfaceFacts i) Server(string clientEndpoint = "198.51.100.2:40000", string allowed = "192.0.2.2/32", string psk = "aa", string clientKey = ClientKey, long handshake = 1)
        {
            var i = new InterfaceFacts { Name = "wgs", PublicKey = ServerKey, ListenPort = 51820, Addresses = { "192.0.2.1/26" } };
            i.Peers.Add(new PeerFacts { PublicKey = clientKey, PresharedKeyHash = psk, Endpoint = clientEndpoint, AllowedIPs = { allowed }, LatestHandshake = handshake });
            var h = new EndFacts { HostName = "server", LocalAddresses = { "127.0.0.1", "203.0.113.2", "192.0.2.1" }, Interfaces = { i } };
            return (h, i);
        }

        private static CaptureFacts Cap(string host, int port, params (double t, bool outgoing, string remote, string type)[] packets)
        {
            var c = new CaptureFacts { HostName = host, ListenPort = port, Ran = true, StartUtc = T0, EndUtc = T0.AddSeconds(5) };
            foreach (var p in packets) c.Packets.Add(new PacketFact { TimeUtc = T0.AddSeconds(p.t), Outgoing = p.outgoing, Remote = p.remote, Type = p.type });
            return c;
        }

        private static List<JudgedFinding> Judge((EndFacts, InterfaceFacts) a, (EndFacts, InterfaceFacts) b, CaptureFacts ca = null, CaptureFacts cb = null)
            => PeerJudge.Judge(a.Item1, a.Item2, b.Item1, b.Item2, ca, cb);

        [Fact]
        public void HealthyEndsGiveNoFinding()
        {
            var r = Judge(Client(), Server(),
                Cap("client", 40000, (1, true, "203.0.113.2:51820", "Data"), (1.1, false, "203.0.113.2:51820", "Data")),
                Cap("server", 51820, (1.05, false, "198.51.100.2:40000", "Data"), (1.06, true, "198.51.100.2:40000", "Data")));
            Assert.Empty(r);
        }

        [Fact]
        public void InitiationsThatNeverArriveAreUpstreamFilterOnEitherSide()
        {
            var ca = Cap("client", 40000, (1, true, "203.0.113.2:51820", "Initiation"));
            var cb = Cap("server", 51820);
            var r = Judge(Client(), Server(handshake: 0), ca, cb);
            Assert.Equal("UpstreamFilter", r[0].Finding.Cause);
            Assert.Equal("Error", r[0].Finding.Severity);
            Assert.Contains(r[0].Finding.Evidence, e => e.StartsWith("segment: from the uplink of client (198.51.100.2") && e.Contains("server (203.0.113.2)"));
            // the same facts seen from the server's end
            var r2 = Judge(Server(handshake: 0), Client(), cb, ca);
            Assert.Equal("UpstreamFilter", r2[0].Finding.Cause);
            Assert.True(r2[0].OnPeer);
        }

        [Fact]
        public void AnswersThatNeverComeBackAreReturnPathBlocked()
        {
            var r = Judge(Client(), Server(handshake: 0),
                Cap("client", 40000, (1, true, "203.0.113.2:51820", "Initiation")),
                Cap("server", 51820, (1.01, false, "198.51.100.2:40000", "Initiation"), (1.02, true, "198.51.100.2:40000", "Response")));
            Assert.Equal("ReturnPathBlocked", Assert.Single(r).Finding.Cause);
        }

        [Fact]
        public void DataLostOnTheWayBackIsNamedOnceAsReturnPathBlocked()
        {
            var r = Judge(Client(), Server(),
                Cap("client", 40000, (1, true, "203.0.113.2:51820", "Data")),
                Cap("server", 51820, (1.01, false, "198.51.100.2:40000", "Data"), (1.02, true, "198.51.100.2:40000", "Data")));
            Assert.Equal("ReturnPathBlocked", Assert.Single(r).Finding.Cause);
        }

        [Fact]
        public void AKeepaliveThatIsNotAnsweredIsNoFault()
        {
            var r = Judge(Client(), Server(),
                Cap("client", 40000, (1, true, "203.0.113.2:51820", "Keepalive")),
                Cap("server", 51820, (1.01, false, "198.51.100.2:40000", "Keepalive")));
            Assert.Empty(r);
        }

        [Fact]
        public void AnEndpointThatIsNotTheClientsAddressWithoutKeepaliveIsNoKeepaliveBehindNat()
        {
            var r = Judge(Server(clientEndpoint: "203.0.113.1:40000"), Client(keepalive: 0));
            var f = Assert.Single(r);
            Assert.Equal("NoKeepaliveBehindNat", f.Finding.Cause);
            Assert.Equal("Warning", f.Finding.Severity);
            Assert.True(f.OnPeer);
            Assert.Equal("wgc", f.Finding.Interface);
            Assert.True(f.Finding.CanRepair);
            Assert.Contains("PublicKey=" + ServerKey, f.Finding.RepairData);
            Assert.Contains("Keepalive=25", f.Finding.RepairData);
            // with a keepalive, or without NAT, nothing
            Assert.Empty(Judge(Server(clientEndpoint: "203.0.113.1:40000"), Client(keepalive: 25)));
            Assert.Empty(Judge(Server(), Client(keepalive: 0)));
        }

        [Fact]
        public void KeysPresharedKeysAllowedIpsAndPortsAreComparedLive()
        {
            var key = Judge(Client(), Server(clientKey: OtherKey));
            Assert.Contains(key, x => x.Finding.Cause == "KeyMismatch" && x.OnPeer && x.Finding.Evidence.Any(e => e.Contains(ClientKey)));
            var psk = Judge(Client(psk: "aa"), Server(psk: "bb"));
            Assert.Equal("PresharedKeyMismatch", Assert.Single(psk).Finding.Cause);
            Assert.Single(Judge(Client(psk: null), Server(psk: "bb")));
            var allowed = Judge(Client(), Server(allowed: "192.0.2.3/32"));
            var a = Assert.Single(allowed);
            Assert.Equal("AllowedIpsMismatch", a.Finding.Cause);
            Assert.True(a.OnPeer);
            Assert.Contains(a.Finding.Evidence, e => e.Contains("192.0.2.3/32"));
            var c = Client();
            c.i.Peers[0].Endpoint = "203.0.113.2:51821";
            Assert.Equal("PortMismatch", Assert.Single(Judge(c, Server())).Finding.Cause);
        }

        [Fact]
        public void CapturesThatCouldNotRunAreSaidAboveInfo()
        {
            var failed = new CaptureFacts { HostName = "server", Interface = "wgs", ListenPort = 51820, Error = "tcpdump: not found" };
            var r = Judge(Client(), Server(), Cap("client", 40000), failed);
            var f = Assert.Single(r);
            Assert.Equal("CheckNotRun", f.Finding.Cause);
            Assert.Equal("Warning", f.Finding.Severity);
        }

        [Fact]
        public void PairsByKeysBeforeAnythingElse()
        {
            var s = Server();
            var other = new InterfaceFacts { Name = "wg9", PublicKey = OtherKey };
            s.host.Interfaces.Insert(0, other);
            Assert.Same(s.i, PeerJudge.Pair(Client().i, s.host));
            Assert.Same(other, PeerJudge.Pair(Client().i, s.host, "wg9"));
        }

        [Fact]
        public void TheDumpKeepsNoPrivateOrPresharedKey()
        {
            const string priv = "SGVsbG8gV29ybGQhIFRoaXMgaXMgYSBwcml2YXRlIGs=";
            const string psk = "cHJlc2hhcmVkIGtleSBwcmVzaGFyZWQga2V5IHByZXM=";
            var dump = $"{priv}\t{ServerKey}\t51820\toff\n{ClientKey}\t{psk}\t198.51.100.2:40000\t192.0.2.2/32\t1700000000\t10\t20\t25\n";
            var i = EndCollector.ParseDump("wgs", dump, "00112233445566778899aabbccddeeff");
            var json = new EndFacts { HostName = "h", Interfaces = { i } }.ToJson();
            Assert.DoesNotContain(priv, json);
            Assert.DoesNotContain(psk, json);
            Assert.Contains(ServerKey, json);
            Assert.Equal(EndCollector.KeyedHash(psk, "00112233445566778899aabbccddeeff"), i.Peers[0].PresharedKeyHash);
            Assert.NotEqual(EndCollector.KeyedHash(psk, "ffeeddccbbaa99887766554433221100"), i.Peers[0].PresharedKeyHash);
            var back = EndFacts.FromJson(json);
            Assert.Equal(25, back.Interfaces[0].Peers[0].PersistentKeepalive);
            Assert.Equal("192.0.2.2/32", back.Interfaces[0].Peers[0].AllowedIPs[0]);
        }

        [Theory]
        [InlineData("192.0.2.0/26", "192.0.2.63", true)]
        [InlineData("192.0.2.0/26", "192.0.2.64", false)]
        [InlineData("2001:db8:100::/64", "2001:db8:100::2", true)]
        [InlineData("192.0.2.2/32", "2001:db8:100::2", false)]
        [InlineData("0.0.0.0/0", "203.0.113.9", true)]
        public void PrefixContainment(string prefix, string address, bool expected)
            => Assert.Equal(expected, PeerJudge.Contains(prefix, address));
    }
}
