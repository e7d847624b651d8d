using System;
using System.IO;
using System.Linq;
using WgTroubleshoot.Logs;
using Xunit;

namespace WgTroubleshoot.Tests.Logs
{
    public class WgLogParserTests
    {
        private static string Corpus(string name) => Path.Combine(AppContext.BaseDirectory, "Corpus", "logs", name);

        [Fact]
        public void RealWireGuardGoLogOfAFailingHandshakeGivesRetries()
        {
            var events = WgLogReader.ReadFile(Corpus("wireguard-go-client-key-mismatch.log"));
            var retries = events.Where(e => e.EventType == WgLogEventType.HandshakeRetry).ToList();
            Assert.Equal(6, retries.Count);
            var first = retries[0];
            Assert.Equal("wgttrc0", first.Interface);
            Assert.Equal("P0ve…VrRU", first.Peer);
            Assert.Equal("wireguard-go", first.Source);
            Assert.Equal("Handshake did not complete after 5 seconds, retrying (try 2)", first.Message);
            Assert.Equal(new DateTime(2026, 11, 24, 20, 39, 1), first.Time.Value);
            Assert.Equal(DateTimeKind.Local, first.Time.Value.Kind);
            Assert.NotNull(first.LineNumber);
            Assert.Equal(first.Line, File.ReadLines(Corpus("wireguard-go-client-key-mismatch.log")).ElementAt(first.LineNumber.Value - 1));
            // every line of a wireguard-go log is a WireGuard line
            Assert.Equal(File.ReadLines(Corpus("wireguard-go-client-key-mismatch.log")).Count(), events.Count);
            Assert.Contains(events, e => e.EventType == WgLogEventType.HandshakeSent);
            Assert.Contains(events, e => e.EventType == WgLogEventType.HandshakeResponseReceived);
            Assert.Contains(events, e => e.EventType == WgLogEventType.KeepaliveSent);
            Assert.Contains(events, e => e.EventType == WgLogEventType.InterfaceUp);
        }

        [Fact]
        public void RealWireGuardGoLogOfTheRejectingSideGivesInvalidInitiations()
        {
            var events = WgLogReader.ReadFile(Corpus("wireguard-go-server-key-mismatch.log"));
            var invalid = events.Where(e => e.EventType == WgLogEventType.InvalidInitiation).ToList();
            Assert.Equal(8, invalid.Count);
            Assert.All(invalid, e => Assert.Equal("198.51.100.2:52717", e.Endpoint));
            Assert.All(invalid, e => Assert.Null(e.Peer));
            Assert.Contains(events, e => e.EventType == WgLogEventType.HandshakeReceived && e.Peer == "00Km…oMws");
            Assert.Contains(events, e => e.EventType == WgLogEventType.HandshakeResponseSent);
            Assert.Contains(events, e => e.EventType == WgLogEventType.KeepaliveReceived);
            Assert.Contains(events, e => e.EventType == WgLogEventType.PeerCreated && e.Peer == "fFCL…Sag0");
            Assert.Contains(events, e => e.EventType == WgLogEventType.PeerRemoved);
        }

        [Fact]
        public void KernelLinesFromTheJournal()
        {
            var events = WgLogReader.ReadFile(Corpus("kernel-journal.txt"));
            Assert.Equal(15, events.Count); // the e1000e line is not WireGuard's
            Assert.All(events, e => Assert.Equal("kernel", e.Source));
            var retry = events.First(e => e.EventType == WgLogEventType.HandshakeRetry);
            Assert.Equal("wg0", retry.Interface);
            Assert.Equal("1", retry.Peer);
            Assert.Equal("203.0.113.5:51820", retry.Endpoint);
            Assert.Equal(new DateTimeOffset(2026, 11, 24, 20, 10, 8, TimeSpan.Zero).LocalDateTime, retry.Time);
            Assert.Equal(2, events.Count(e => e.EventType == WgLogEventType.HandshakeRetry));
            Assert.Equal(1, events.Count(e => e.EventType == WgLogEventType.HandshakeGaveUp));
            var invalid = Assert.Single(events, e => e.EventType == WgLogEventType.InvalidInitiation);
            Assert.Equal("198.51.100.7:40000", invalid.Endpoint);
            Assert.Null(invalid.Peer);
            var unallowed = Assert.Single(events, e => e.EventType == WgLogEventType.UnallowedSourceIp);
            Assert.Equal("1", unallowed.Peer);
            Assert.Equal("203.0.113.5:51820", unallowed.Endpoint);
            var created = Assert.Single(events, e => e.EventType == WgLogEventType.KeypairCreated);
            Assert.Equal("1", created.Peer);
            Assert.Single(events, e => e.EventType == WgLogEventType.KeypairDestroyed);
            var v6 = Assert.Single(events, e => e.EventType == WgLogEventType.HandshakeReceived);
            Assert.Equal("wg1", v6.Interface);
            Assert.Equal("[2001:db8::7]:51820", v6.Endpoint);
            Assert.Single(events, e => e.EventType == WgLogEventType.HandshakeResponseSent);
            Assert.Single(events, e => e.EventType == WgLogEventType.HandshakeResponseReceived);
            Assert.Single(events, e => e.EventType == WgLogEventType.KeepaliveSent);
            Assert.Single(events, e => e.EventType == WgLogEventType.InterfaceUp);
            Assert.Single(events, e => e.EventType == WgLogEventType.PeerCreated);
        }

        [Theory]
        // journalctl -o short-iso (newer systemd prints the offset with a colon)
        [InlineData("2026-11-24T20:10:08+00:00 gw kernel: wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete after 5 seconds, retrying (try 2)", true)]
        // dmesg --time-format iso
        [InlineData("2026-11-24T20:10:08,123456+00:00 wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete after 5 seconds, retrying (try 2)", true)]
        // plain dmesg: no wall-clock time
        [InlineData("[ 1234.567890] wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete after 5 seconds, retrying (try 2)", false)]
        // a kern.log written by rsyslog, with the kernel's own stamp inside
        [InlineData("Nov 24 20:10:08 gw kernel: [ 1234.567890] wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete after 5 seconds, retrying (try 2)", true)]
        // bare, as the kernel formats it
        [InlineData("wireguard: wg0: Handshake for peer 7 (203.0.113.5:51820) did not complete after 5 seconds, retrying (try 2)", false)]
        public void KernelRetryBehindEveryPrefix(string line, bool hasTime)
        {
            var e = WgLogParser.Parse(line, new DateTime(2026, 11, 30));
            Assert.NotNull(e);
            Assert.Equal(WgLogEventType.HandshakeRetry, e.EventType);
            Assert.Equal("wg0", e.Interface);
            Assert.Equal("7", e.Peer);
            Assert.Equal("203.0.113.5:51820", e.Endpoint);
            Assert.Equal(hasTime, e.Time.HasValue);
            if (hasTime)
            {
                Assert.Equal(2026, e.Time.Value.Year);
                Assert.Equal(DateTimeKind.Local, e.Time.Value.Kind);
            }
            Assert.Equal(line, e.Line);
        }

        [Fact]
        public void WireGuardGoLinesFromTheJournalTakeTheJournalTime()
        {
            var e = WgLogParser.Parse("2026-11-24T20:39:01+0000 host wireguard-go[812]: DEBUG: (wg0) 2026/11/24 20:39:01 peer(P0ve…VrRU) - Handshake did not complete after 5 seconds, retrying (try 3)");
            Assert.Equal(WgLogEventType.HandshakeRetry, e.EventType);
            Assert.Equal("wg0", e.Interface);
            Assert.Equal("P0ve…VrRU", e.Peer);
            Assert.Equal(new DateTimeOffset(2026, 11, 24, 20, 39, 1, TimeSpan.Zero).LocalDateTime, e.Time);
        }

        [Theory]
        [InlineData("DEBUG: (wg0) 2026/11/24 20:39:01 peer(P0ve…VrRU) - IPv4 packet with disallowed source address from peer(P0ve…VrRU)", WgLogEventType.UnallowedSourceIp)]
        [InlineData("DEBUG: (wg0) 2026/11/24 20:39:01 peer(P0ve…VrRU) - Retrying handshake because we stopped hearing back after 15 seconds", WgLogEventType.HandshakeRetry)]
        [InlineData("DEBUG: (wg0) 2026/11/24 20:39:01 peer(P0ve…VrRU) - Handshake did not complete after 20 attempts, giving up", WgLogEventType.HandshakeGaveUp)]
        [InlineData("DEBUG: (wg0) 2026/11/24 20:39:01 Received invalid response message from 203.0.113.5:51820", WgLogEventType.InvalidResponse)]
        [InlineData("DEBUG: (wg0) 2026/11/24 20:39:01 Interface state was Up, requested Down, now Down", WgLogEventType.InterfaceDown)]
        [InlineData("ERROR: (wg0) 2026/11/24 20:39:01 Failed to send handshake initiation: network is unreachable", WgLogEventType.Other)]
        public void WireGuardGoMessages(string line, WgLogEventType type)
        {
            var e = WgLogParser.Parse(line);
            Assert.NotNull(e);
            Assert.Equal(type, e.EventType);
            Assert.Equal("wg0", e.Interface);
        }

        [Theory]
        [InlineData("")]
        [InlineData("2026-11-24T20:10:09+0000 gw kernel: e1000e 0000:00:19.0 eth0: NIC Link is Up")]
        [InlineData("Nov 24 20:10:08 gw sshd[99]: Accepted publickey for root")]
        [InlineData("just text")]
        public void OtherLinesAreNotEvents(string line) => Assert.Null(WgLogParser.Parse(line));

        [Fact]
        public void SinceKeepsLaterEventsInTimeOrder()
        {
            var events = WgLogReader.ReadFile(Corpus("kernel-journal.txt"));
            var since = new DateTimeOffset(2026, 11, 24, 20, 12, 0, TimeSpan.Zero).LocalDateTime;
            var later = WgLogReader.Filter(events.AsEnumerable().Reverse(), since);
            Assert.Equal(3, later.Count);
            Assert.Equal(WgLogEventType.KeypairDestroyed, later[0].EventType);
            Assert.Equal(WgLogEventType.HandshakeGaveUp, later[2].EventType);
        }
    }
}
