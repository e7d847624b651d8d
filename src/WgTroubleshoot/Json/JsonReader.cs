using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace WgTroubleshoot.Json
{
    /// <summary>How much JSON one reader accepts: characters of text, nesting depth and values in all.</summary>
    internal sealed class JsonLimits
    {
        public JsonLimits(int maxChars, int maxDepth, int maxValues)
        {
            MaxChars = maxChars;
            MaxDepth = maxDepth;
            MaxValues = maxValues;
        }

        public int MaxChars { get; }
        /// <summary>Containers inside containers: a top-level scalar is depth 0, a value in the top-level array depth 1.</summary>
        public int MaxDepth { get; }
        /// <summary>Every value counts one (objects, arrays, strings, numbers, literals): bounds the memory a text can claim.</summary>
        public int MaxValues { get; }

        /// <summary>Snapshot and support-bundle files: 256 MiB (a 10,000-peer snapshot is about 15 MB), depth 64, 16 Mi values.</summary>
        public static readonly JsonLimits Snapshot = new JsonLimits(256 * 1024 * 1024, 64, 16 * 1024 * 1024);

        /// <summary>What crosses a PowerShell session between two hosts: 4 MiB, depth 32, 1 Mi values.</summary>
        public static readonly JsonLimits Remote = new JsonLimits(4 * 1024 * 1024, 32, 1024 * 1024);
    }

    /// <summary>Malformed or oversized JSON. The message names the position and the kind of problem, never the text read.</summary>
    internal sealed class JsonFormatException : FormatException
    {
        public JsonFormatException(string message, int position) : base(message) { Position = position; }

        /// <summary>1-based character position of the problem (0 when it is the text as a whole).</summary>
        public int Position { get; }
    }

    /// <summary>
    /// The module's one JSON reader (RFC 8259, strict) for its own files and for what another host sends: objects
    /// become Dictionary&lt;string, object&gt; (ordinal keys, in the order read; a duplicate key is an error), arrays
    /// List&lt;object&gt;, numbers double, plus string, bool and null. A leading byte-order mark is skipped. Bounded by
    /// <see cref="JsonLimits"/> in size, depth and values; the input is untrusted, so errors
    /// (<see cref="JsonFormatException"/>) say where and what, and quote nothing of the text but a property name
    /// that is a plain word.
    /// </summary>
    internal sealed class JsonReader
    {
        private readonly string _text;
        private readonly JsonLimits _limits;
        private readonly StringBuilder _sb = new StringBuilder();
        private int _pos;
        private int _values;

        private JsonReader(string text, JsonLimits limits)
        {
            _text = text;
            _limits = limits;
        }

        /// <summary>The one value of <paramref name="text"/> (see the class summary).</summary>
        public static object Parse(string text, JsonLimits limits)
        {
            if (limits == null) throw new ArgumentNullException(nameof(limits));
            if (text == null) throw new JsonFormatException("there is no JSON text", 0);
            if (text.Length > limits.MaxChars)
                throw new JsonFormatException($"the JSON text has {text.Length} characters, more than the {limits.MaxChars} allowed", 0);
            var r = new JsonReader(text, limits);
            if (text.Length > 0 && text[0] == '\uFEFF') r._pos = 1;
            var v = r.Value(0);
            r.Ws();
            if (r._pos != text.Length) throw r.Error("text after the JSON value");
            return v;
        }

        private JsonFormatException Error(string what) => new JsonFormatException($"{what} at character {_pos + 1}", _pos + 1);

        private void Ws()
        {
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                _pos++;
            }
        }

        private object Value(int depth)
        {
            Ws();
            if (_pos >= _text.Length) throw Error("unexpected end of the text");
            if (++_values > _limits.MaxValues) throw Error($"more than {_limits.MaxValues} values");
            char c = _text[_pos];
            switch (c)
            {
                case '{': return Object(depth + 1);
                case '[': return Array(depth + 1);
                case '"': return String();
                case 't': return Literal("true", true);
                case 'f': return Literal("false", false);
                case 'n': return Literal("null", null);
            }
            if (c == '-' || (c >= '0' && c <= '9')) return Number();
            throw Error(c < 0x20 || c > 0x7e ? "an unexpected character" : $"unexpected '{c}'");
        }

        private void Enter(int depth)
        {
            if (depth > _limits.MaxDepth) throw Error($"nesting deeper than {_limits.MaxDepth}");
            _pos++;
            Ws();
        }

        private object Literal(string word, object value)
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) throw Error("an unknown word");
            _pos += word.Length;
            return value;
        }

        private Dictionary<string, object> Object(int depth)
        {
            Enter(depth);
            var o = new Dictionary<string, object>(StringComparer.Ordinal);
            if (_pos < _text.Length && _text[_pos] == '}') { _pos++; return o; }
            while (true)
            {
                Ws();
                if (_pos >= _text.Length || _text[_pos] != '"') throw Error("expected a property name");
                int at = _pos;
                var key = String();
                Ws();
                if (_pos >= _text.Length || _text[_pos] != ':') throw Error("expected ':'");
                _pos++;
                if (o.ContainsKey(key)) { _pos = at; throw Error($"a second property {NameForError(key)}"); }
                o.Add(key, Value(depth));
                if (Next('}')) return o;
            }
        }

        private List<object> Array(int depth)
        {
            Enter(depth);
            var l = new List<object>();
            if (_pos < _text.Length && _text[_pos] == ']') { _pos++; return l; }
            while (true)
            {
                l.Add(Value(depth));
                if (Next(']')) return l;
            }
        }

        /// <summary>After an item: true at the closing bracket, false after a comma.</summary>
        private bool Next(char close)
        {
            Ws();
            if (_pos >= _text.Length) throw Error("unexpected end of the text");
            char c = _text[_pos];
            if (c == ',') { _pos++; return false; }
            if (c == close) { _pos++; return true; }
            throw Error($"expected ',' or '{close}'");
        }

        /// <summary>A property name in an error message: quoted when it is a plain word, else only said to be there.</summary>
        internal static string NameForError(string name) => IsPlainWord(name) ? "'" + name + "'" : "(a name that is not a plain word)";

        /// <summary>A letter, then up to 63 letters, digits or '_' (ASCII): safe to quote in a message.</summary>
        internal static bool IsPlainWord(string name)
        {
            if (string.IsNullOrEmpty(name) || name.Length > 64 || !IsAsciiLetter(name[0])) return false;
            foreach (char c in name)
                if (!IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '_') return false;
            return true;
        }

        private static bool IsAsciiLetter(char c) => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

        private string String()
        {
            _pos++;
            _sb.Clear();
            while (true)
            {
                int run = _pos;
                while (_pos < _text.Length && _text[_pos] != '"' && _text[_pos] != '\\' && _text[_pos] >= 0x20) _pos++;
                _sb.Append(_text, run, _pos - run);
                if (_pos >= _text.Length) throw Error("an unterminated string");
                char c = _text[_pos];
                if (c == '"') { _pos++; return _sb.ToString(); }
                if (c < 0x20) throw Error("a control character in a string");
                _pos++;
                if (_pos >= _text.Length) throw Error("an unterminated escape");
                char e = _text[_pos++];
                switch (e)
                {
                    case '"': _sb.Append('"'); break;
                    case '\\': _sb.Append('\\'); break;
                    case '/': _sb.Append('/'); break;
                    case 'b': _sb.Append('\b'); break;
                    case 'f': _sb.Append('\f'); break;
                    case 'n': _sb.Append('\n'); break;
                    case 'r': _sb.Append('\r'); break;
                    case 't': _sb.Append('\t'); break;
                    case 'u': _sb.Append(Hex4()); break;
                    default: _pos--; throw Error("an unknown escape");
                }
            }
        }

        /// <summary>The four hex digits of a \u escape. Surrogates are kept as they are, paired or not (the writer writes a lone one so).</summary>
        private char Hex4()
        {
            if (_pos + 4 > _text.Length) throw Error("a short \\u escape");
            int code = 0;
            for (int i = 0; i < 4; i++)
            {
                char h = _text[_pos + i];
                int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (d < 0) throw Error("a \\u escape without four hex digits");
                code = code * 16 + d;
            }
            _pos += 4;
            return (char)code;
        }

        /// <summary>-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as a double; one too large for a double is an error.</summary>
        private double Number()
        {
            int start = _pos;
            if (_text[_pos] == '-') _pos++;
            if (_pos < _text.Length && _text[_pos] == '0') _pos++;
            else if (Digits() == 0) throw Error("a number without digits");
            if (_pos < _text.Length && _text[_pos] == '.')
            {
                _pos++;
                if (Digits() == 0) throw Error("a number without digits after its '.'");
            }
            if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
            {
                _pos++;
                if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-')) _pos++;
                if (Digits() == 0) throw Error("a number without digits in its exponent");
            }
            if (_pos < _text.Length && (_text[_pos] == '.' || (_text[_pos] >= '0' && _text[_pos] <= '9')))
                throw Error("a number with a leading zero or a second '.'");
            var s = _text.Substring(start, _pos - start);
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || double.IsInfinity(d))
            {
                _pos = start;
                throw Error("a number out of the range of a double");
            }
            return d;
        }

        private int Digits()
        {
            int start = _pos;
            while (_pos < _text.Length && _text[_pos] >= '0' && _text[_pos] <= '9') _pos++;
            return _pos - start;
        }
    }
}
