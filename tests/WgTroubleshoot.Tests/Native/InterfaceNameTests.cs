using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;
using Xunit;

namespace WgTroubleshoot.Tests.Native
{
    /// <summary>Interface names are validated with the kernel's rules before they reach nft, iptables, a hook line or /sys.</summary>
    public class InterfaceNameTests
    {
        [Theory]
        [InlineData("eth0")]
        [InlineData("wg0")]
        [InlineData("wg-quick.0+=_")]
        [InlineData("a23456789012345")]
        [InlineData("veth@x")]
        public void AcceptsWhatTheKernelAccepts(string name) => Assert.True(InterfaceName.IsValid(name), name);

        [Theory]
        [InlineData("")]
        [InlineData(".")]
        [InlineData("..")]
        [InlineData("a234567890123456")]
        [InlineData("stva/../stva")]
        [InlineData("eth0:1")]
        [InlineData("eth 0")]
        [InlineData("eth0\n")]
        [InlineData("eth0\t")]
        [InlineData("eth0\"")]
        [InlineData("eth'0")]
        [InlineData("eth\\0")]
        [InlineData("eth#0")]
        [InlineData("eth;0")]
        [InlineData("e{0}")]
        [InlineData("e$0")]
        [InlineData("e`0")]
        [InlineData("e\u00e9")]
        [InlineData("e\u0001")]
        public void RefusesWhatTheKernelOrAScriptWouldMisread(string name)
        {
            Assert.False(InterfaceName.IsValid(name), name);
            var ex = Assert.Throws<WgException>(() => InterfaceName.Validate(name, "-OutInterface"));
            Assert.Equal(ErrorIds.InvalidInterfaceName, ex.ErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, ex.Category);
            Assert.Contains("-OutInterface", ex.Message);
        }

        [Fact]
        public void LinkExistsDoesNotNormaliseAPath()
        {
            if (!Directory.Exists("/sys/class/net/lo")) return;
            Assert.True(IpInfo.LinkExists("lo"));
            Assert.False(IpInfo.LinkExists("lo/../lo"));
            Assert.False(IpInfo.LinkExists("../net/lo"));
            Assert.False(IpInfo.LinkExists("."));
            Assert.False(IpInfo.LinkExists("lo/"));
        }

        [Theory]
        [InlineData("eth0\"; flush ruleset; add table x \"")]
        [InlineData("eth0\" masquerade; flush ruleset #")]
        [InlineData("e;flush ruleset")]
        [InlineData("e}")]
        public void AnUplinkThatWouldEndAnNftTokenIsRefusedNotPasted(string uplink)
        {
            var ex = Assert.Throws<WgException>(() => NatRules.ForNftables("wg0", new[] { "10.0.0.0/24" }, uplink));
            Assert.Equal(ErrorIds.InvalidInterfaceName, ex.ErrorId);
            Assert.Throws<WgException>(() => NatRules.ForIptables("wg0", new[] { "10.0.0.0/24" }, uplink));
        }

        [Theory]
        [InlineData("10.0.0.0/24; flush ruleset")]
        [InlineData("10.0.0.0/24 oifname x")]
        [InlineData("10.0.0/24")]
        [InlineData("10.0.0.0/33")]
        [InlineData("fe80::1%eth0/64")]
        public void ASubnetThatIsNotAPrefixIsRefused(string subnet)
        {
            var ex = Assert.Throws<WgException>(() => NatRules.ForNftables("wg0", new[] { subnet }, "eth0"));
            Assert.Equal(ErrorIds.InvalidArgument, ex.ErrorId);
        }

        [Fact]
        public void AValidScriptQuotesEveryNameAndKeepsItsShape()
        {
            var r = NatRules.ForNftables("wg0", new[] { "10.0.0.0/24", "2001:db8::/64" }, "eth0");
            var script = r.Up.Single()[1];
            Assert.Contains("ip saddr 10.0.0.0/24 oifname \"eth0\" masquerade", script);
            Assert.Contains("ip6 saddr 2001:db8::/64 oifname \"eth0\" masquerade", script);
            Assert.Contains("forward iifname \"wg0\" accept", script);
        }
    }
}
