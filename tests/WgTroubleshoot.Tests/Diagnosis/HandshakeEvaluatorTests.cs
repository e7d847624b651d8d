using System;
using WgTroubleshoot.Diagnosis;
using Xunit;

namespace WgTroubleshoot.Tests.Diagnosis
{
    public class HandshakeEvaluatorTests
    {
        private static WgPeer Peer(int? ageSeconds, long rx, long tx, int? keepalive = null, string endpoint = "203.0.113.2:51820")
            => new WgPeer
            {
                Interface = "wg0",
                PublicKey = "peer",
                Endpoint = endpoint,
                LatestHandshake = ageSeconds.HasValue ? DateTime.UtcNow.AddSeconds(-ageSeconds.Value) : (DateTime?)null,
                HandshakeAge = ageSeconds.HasValue ? TimeSpan.FromSeconds(ageSeconds.Value) : (TimeSpan?)null,
                RxBytes = rx,
                TxBytes = tx,
                PersistentKeepalive = keepalive,
            };

        [Fact]
        public void RecentHandshakeIsHealthy()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(70, 100, 100), Peer(75, 200, 200), 5);
            Assert.Equal(nameof(HandshakeStatus.Healthy), r.Status);
            Assert.False(r.OneWay);
            Assert.Contains("1 minute, 15 seconds ago", r.Reason);
        }

        [Fact]
        public void HandshakeAtExactlyRejectAfterTimeIsStillHealthy()
            => Assert.Equal(nameof(HandshakeStatus.Healthy), HandshakeEvaluator.Evaluate(null, Peer(180, 0, 0, 25), 0).Status);

        [Fact]
        public void OldHandshakeWhileSendingIsStale()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(400, 100, 100), Peer(405, 100, 500), 5);
            Assert.Equal(nameof(HandshakeStatus.Stale), r.Status);
            Assert.True(r.OneWay);
            Assert.Equal(400, r.TxDelta);
        }

        [Fact]
        public void OldHandshakeWithKeepaliveIsStaleEvenWithoutTraffic()
            => Assert.Equal(nameof(HandshakeStatus.Stale), HandshakeEvaluator.Evaluate(Peer(400, 1, 1, 25), Peer(405, 1, 1, 25), 5).Status);

        [Fact]
        public void OldHandshakeWithNothingSentIsIdleNotAFault()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(4000, 10, 10), Peer(4005, 10, 10), 5);
            Assert.Equal(nameof(HandshakeStatus.Idle), r.Status);
            Assert.Contains("quiet by design", r.Reason);
        }

        [Fact]
        public void NeverWhileTryingIsNeverEstablished()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(null, 0, 0, 25), Peer(null, 0, 148, 25), 5);
            Assert.Equal(nameof(HandshakeStatus.NeverEstablished), r.Status);
            Assert.Contains("203.0.113.2:51820", r.Reason);
        }

        [Fact]
        public void NeverWithoutEndpointIsAwaitingPeer()
            => Assert.Equal(nameof(HandshakeStatus.AwaitingPeer), HandshakeEvaluator.Evaluate(Peer(null, 0, 0, null, null), Peer(null, 0, 0, null, null), 5).Status);

        [Fact]
        public void NeverWithEndpointButNothingSentIsIdle()
            => Assert.Equal(nameof(HandshakeStatus.Idle), HandshakeEvaluator.Evaluate(Peer(null, 0, 0), Peer(null, 0, 0), 5).Status);

        [Fact]
        public void TransmitWithoutReceiveOnAFreshSessionIsOneWay()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(10, 500, 500), Peer(15, 500, 900), 5);
            Assert.Equal(nameof(HandshakeStatus.Healthy), r.Status);
            Assert.True(r.OneWay);
            Assert.Contains("one-way", r.Reason);
        }

        [Fact]
        public void AKeepaliveGoingOutUnansweredIsNotOneWay()
        {
            var r = HandshakeEvaluator.Evaluate(Peer(10, 500, 500, 25), Peer(14, 500, 532, 25), 4);
            Assert.Equal(nameof(HandshakeStatus.Healthy), r.Status);
            Assert.False(r.OneWay);
            var data = HandshakeEvaluator.Evaluate(Peer(10, 500, 500, 25), Peer(14, 500, 596, 25), 4);
            Assert.True(data.OneWay);
        }

        [Fact]
        public void OneSampleNeverClaimsOneWay()
            => Assert.False(HandshakeEvaluator.Evaluate(null, Peer(10, 0, 900), 0).OneWay);

        [Fact]
        public void QuietIsFalseOnlyForStaleOrNeverEstablished()
        {
            Assert.True(HandshakeEvaluator.AllHealthy(new[] {
                new HandshakeResult { Status = nameof(HandshakeStatus.Healthy) }, new HandshakeResult { Status = nameof(HandshakeStatus.Idle) }, new HandshakeResult { Status = nameof(HandshakeStatus.AwaitingPeer) } }));
            Assert.False(HandshakeEvaluator.AllHealthy(new[] { new HandshakeResult { Status = nameof(HandshakeStatus.Healthy) }, new HandshakeResult { Status = nameof(HandshakeStatus.Stale) } }));
            Assert.False(HandshakeEvaluator.AllHealthy(new[] { new HandshakeResult { Status = nameof(HandshakeStatus.NeverEstablished) } }));
        }
    }
}
