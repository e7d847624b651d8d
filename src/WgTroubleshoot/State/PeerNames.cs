using System;
using System.Collections.Generic;
using WgTroubleshoot.Config;

namespace WgTroubleshoot.State
{
    /// <summary>Peer labels (the comment directly above [Peer]) by public key, read from a config file.</summary>
    public static class PeerNames
    {
        public static Dictionary<string, string> Read(string path)
        {
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in WgConfigParser.ParseFile(path).Peers)
                if (p.Name != null && p.PublicKey != null) names[p.PublicKey] = p.Name;
            return names;
        }
    }
}
