using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Firewall;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>
    /// The host's packet filter, every backend in one place: nftables, iptables-nft, iptables-legacy (IPv4 and
    /// IPv6), ufw and firewalld, each with the text its tool printed (filter, nat and forward tables together).
    /// The text is the fact; <see cref="Filter"/> is the one parse of it (once per snapshot, also after a replay), and
    /// <see cref="NatForward"/> the chains of that same parse the NAT and forward checks read. A backend that could not be read is absent here and
    /// "netfilter:&lt;backend&gt;" is Failed or Unavailable in <see cref="HostSnapshot.Sources"/>.
    /// </summary>
    public sealed class NetfilterState
    {
        private List<BackendSnapshot> _filter;
        private List<FwChain> _natForward;
        /// <summary>The backends and texts <see cref="_filter"/> was parsed from: a backend added or a text replaced since is parsed again.</summary>
        private string[] _parsedNames, _parsedTexts;

        public List<NetfilterBackend> Backends { get; set; } = new List<NetfilterBackend>();
        /// <summary>Links WireGuard's UDP may arrive on (every link but loopback and tunnels).</summary>
        public List<string> Underlay { get; set; } = new List<string>();
        /// <summary>ufw's DEFAULT_FORWARD_POLICY (/etc/default/ufw) when ufw is installed.</summary>
        public string UfwForwardPolicy { get; set; }
        /// <summary>ENABLED=yes in /etc/ufw/ufw.conf.</summary>
        public bool UfwEnabled { get; set; }

        /// <summary>A state of backends already read and parsed (a repair's fresh look at the host): their parse is reused, not redone.</summary>
        public static NetfilterState FromParsed(IEnumerable<BackendSnapshot> parsed)
        {
            var nf = new NetfilterState { _filter = parsed.ToList() };
            foreach (var b in nf._filter) nf.Backends.Add(new NetfilterBackend { Name = b.Name, Tool = b.Tool, Text = b.RawText });
            nf.Remember();
            return nf;
        }

        public NetfilterBackend Backend(string name) => Backends.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal));

        /// <summary>Every backend's rules as the input/forward walker sees them (Get-WgFirewallStatus's model).</summary>
        public List<BackendSnapshot> Filter()
        {
            if (_filter != null && Unchanged()) return _filter;
            var list = new List<BackendSnapshot>();
            foreach (var b in Backends) list.Add(b.ToBackendSnapshot());
            _filter = list;
            _natForward = null;
            Remember();
            return _filter;
        }

        private void Remember()
        {
            _parsedNames = Backends.Select(b => b.Name).ToArray();
            _parsedTexts = Backends.Select(b => b.Text).ToArray();
        }

        private bool Unchanged()
        {
            if (_parsedTexts.Length != Backends.Count) return false;
            for (int i = 0; i < Backends.Count; i++)
                if (!ReferenceEquals(Backends[i].Text, _parsedTexts[i]) || Backends[i].Name != _parsedNames[i]) return false;
            return true;
        }

        /// <summary>Every chain of nftables (all tables, iptables-nft's too) and of IPv4 iptables, in the order printed: the NAT and forward checks' view.</summary>
        public List<FwChain> NatForward()
        {
            if (_natForward != null && _filter != null && Unchanged()) return _natForward;
            var chains = new List<FwChain>();
            foreach (var b in Backends)
                if (b.Name == "nftables" || b.Name.StartsWith("iptables-", StringComparison.Ordinal)) chains.AddRange(Chains(b.Name));
            return _natForward = chains;
        }

        /// <summary>
        /// The chains of one nftables, iptables or ip6tables backend from the one parse (every table, in the order
        /// printed); empty when the backend was not read or is another kind (ufw, firewalld).
        /// </summary>
        public List<FwChain> Chains(string backend)
        {
            var snap = Filter().FirstOrDefault(s => s.Name == backend && s.RawText != null);
            return (snap?.Nft?.AllChains() ?? snap?.Iptables?.AllChains() ?? Enumerable.Empty<FwChain>()).ToList();
        }
    }

    /// <summary>What one netfilter backend's tool printed.</summary>
    public sealed class NetfilterBackend
    {
        /// <summary>nftables, iptables-nft, iptables-legacy, ip6tables-nft, ip6tables-legacy, ufw or firewalld.</summary>
        public string Name { get; set; }
        /// <summary>The tool that changes it (nft, iptables-legacy, ufw, firewall-cmd ...).</summary>
        public string Tool { get; set; }
        /// <summary>The ruleset as printed (nft list ruleset, iptables-save, ufw status verbose).</summary>
        public string Text { get; set; }
        /// <summary>What the tool printed on stderr (nft warnings), kept for the parser.</summary>
        public string Warnings { get; set; }
        /// <summary>firewalld: running or not.</summary>
        public bool Running { get; set; }
        /// <summary>firewalld: `firewall-cmd --list-all --zone=Z` per zone that applies to the underlay.</summary>
        public Dictionary<string, string> Zones { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);
        /// <summary>firewalld: the ports of the services those zones name.</summary>
        public Dictionary<string, string[]> ServicePorts { get; set; } = new Dictionary<string, string[]>(StringComparer.Ordinal);

        /// <summary>The parsed backend (the model FirewallEvaluator and FirewallRulePlanner walk).</summary>
        public BackendSnapshot ToBackendSnapshot()
        {
            var snap = new BackendSnapshot { Name = Name, Tool = Tool, RawText = Text };
            if (Name == "nftables")
            {
                snap.Nft = NftParser.Parse(Text ?? "", Warnings);
                snap.Active = snap.Nft.OwnTables.Any(t => t.Chains.Any(c => c.IsBase && c.Type == "filter"));
            }
            else if (Name == "ufw")
            {
                snap.Ufw = UfwParser.Parse(Text ?? "");
                snap.Active = snap.Ufw.Active;
            }
            else if (Name == "firewalld")
            {
                snap.Active = Running;
                if (Running)
                {
                    snap.Zones = Zones.Values.Select(FirewalldParser.ParseZone).ToList();
                    snap.ServicePorts = new Dictionary<string, string[]>(ServicePorts, StringComparer.Ordinal);
                    snap.RawText = string.Join("\n", Zones.Values);
                }
            }
            else
            {
                snap.Iptables = IptablesParser.Parse(Text ?? "", Name.StartsWith("ip6tables", StringComparison.Ordinal));
                snap.Active = snap.Iptables.HasRules;
            }
            return snap;
        }
    }
}
