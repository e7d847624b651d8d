using System.Collections.Generic;

namespace WgTroubleshoot.State
{
    /// <summary>Peer labels (the comment directly above [Peer]) by public key, read from a config file.</summary>
    public static class PeerNames
    {
        public static Dictionary<string, string> Read(string path)
        {
            // Replaced by the config parser once it lands.
            return new Dictionary<string, string>();
        }
    }
}
