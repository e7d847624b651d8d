using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.Snapshot
{
    /// <summary>A wg-quick configuration as the checks need it, without any secret: peers by public key, and only whether a preshared key is set.</summary>
    public sealed class ConfigSnapshot
    {
        public string Path { get; set; }
        /// <summary>False when the file does not parse (the lint findings say why).</summary>
        public bool Parsed { get; set; }
        /// <summary>The public key derived from the private key; null without a valid one.</summary>
        public string PublicKey { get; set; }
        public bool HasPrivateKey { get; set; }
        public string[] Address { get; set; } = new string[0];
        public int? ListenPort { get; set; }
        public int? Mtu { get; set; }
        public string[] Dns { get; set; } = new string[0];
        public string Table { get; set; }
        public string FwMark { get; set; }
        public string[] PreUp { get; set; } = new string[0];
        public string[] PostUp { get; set; } = new string[0];
        public string[] PreDown { get; set; } = new string[0];
        public string[] PostDown { get; set; } = new string[0];
        public bool SaveConfig { get; set; }
        public List<ConfigPeerSnapshot> Peers { get; set; } = new List<ConfigPeerSnapshot>();

        /// <summary>A server waits for clients: a ListenPort and at least one peer without an Endpoint.</summary>
        public bool IsServer => ListenPort.HasValue && Peers.Any(p => string.IsNullOrEmpty(p.Endpoint));

        /// <summary>The secret-free view of a parsed configuration.</summary>
        public static ConfigSnapshot From(WgConfig c, string path)
        {
            var s = new ConfigSnapshot { Path = path, Parsed = c != null };
            if (c == null) return s;
            s.PublicKey = c.PublicKey;
            s.HasPrivateKey = c.HasPrivateKey;
            s.Address = c.Address ?? new string[0];
            s.ListenPort = c.ListenPort;
            s.Mtu = c.Mtu;
            s.Dns = c.Dns ?? new string[0];
            s.Table = c.Table;
            s.FwMark = c.FwMark;
            s.PreUp = c.PreUp ?? new string[0];
            s.PostUp = c.PostUp ?? new string[0];
            s.PreDown = c.PreDown ?? new string[0];
            s.PostDown = c.PostDown ?? new string[0];
            s.SaveConfig = c.SaveConfig;
            s.Peers = c.Peers.Select(p => new ConfigPeerSnapshot
            {
                PublicKey = p.PublicKey, Name = p.Name, Endpoint = p.Endpoint, EndpointHost = p.EndpointHost,
                EndpointPort = p.EndpointPort, AllowedIPs = p.AllowedIPs ?? new string[0],
                PersistentKeepalive = p.PersistentKeepalive, HasPresharedKey = p.HasPresharedKey, Line = p.Line,
            }).ToList();
            return s;
        }
    }

    /// <summary>One [Peer] of a configuration, without its preshared key.</summary>
    public sealed class ConfigPeerSnapshot
    {
        public string PublicKey { get; set; }
        public string Name { get; set; }
        public string Endpoint { get; set; }
        public string EndpointHost { get; set; }
        public int? EndpointPort { get; set; }
        public string[] AllowedIPs { get; set; } = new string[0];
        public int? PersistentKeepalive { get; set; }
        public bool HasPresharedKey { get; set; }
        public int Line { get; set; }
    }
}
