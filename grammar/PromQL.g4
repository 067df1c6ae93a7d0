// PromQL grammar (Prometheus 3.x syntax) for promeval.
//
// This grammar is the single source of PromQL syntax. The build runs Debian's
// /usr/bin/antlr4 on it into the build directory; generated code is never
// committed. It has no actions or predicates: the AST builder
// (parser/ast_builder.cc) turns the parse tree into the typed AST, and the
// checks Prometheus performs in its grammar actions live there.
//
// Lexing: the lexer rules below recognise every PromQL token context-free.
// At run time parser/token_source.cc scans them with a hand-written scanner
// (several times faster than the generated lexer; tests/token_source_test.cc
// and the parse fuzzer check that both agree at every position).
// Prometheus's own lexer is stateful (keywords are plain identifiers inside
// braces, only durations and a few keywords are allowed inside brackets,
// `fill` is a keyword only before "("), and ANTLR combined grammars cannot
// have lexer modes, so parser/token_source.cc applies those context rules to
// the token stream and produces Prometheus's lexer error messages.
//
// Operator precedence, lowest to highest: or < and unless < comparisons
// (and the histogram trims </ >/) <
// + - < * / % atan2 (and unary + -) < ^ (right associative) < the postfix
// modifiers [range], [range:step], offset, @, anchored, smoothed.

grammar PromQL;

// Emitted by token_source.cc only: a lexer error, and "::" inside brackets
// (which no rule accepts).
tokens {
  LEXER_ERROR,
  DOUBLE_COLON
}

// ---------------------------------------------------------------------------
// Parser rules.
// ---------------------------------------------------------------------------

expression
  : expr EOF
  | EOF
  ;

expr
  : expr LEFT_BRACKET durationExpr (COLON durationExpr?)? RIGHT_BRACKET  # rangeOrSubqueryExpr
  | expr OFFSET offsetDuration                                          # offsetExpr
  | expr AT atTimestamp                                                 # atExpr
  | expr (ANCHORED | SMOOTHED)                                          # extendedRangeExpr
  | <assoc = right> expr POW binModifier expr                           # binaryExpr
  | unaryOp expr                                                        # unaryExpr
  | expr (MUL | DIV | MOD | ATAN2) binModifier expr                     # binaryExpr
  | expr (ADD | SUB) binModifier expr                                   # binaryExpr
  | expr (EQLC | NEQ | LTE | LSS | GTE | GTR | TRIM_UPPER | TRIM_LOWER) binModifier expr  # binaryExpr
  | expr (LAND | LUNLESS) binModifier expr                              # binaryExpr
  | expr LOR binModifier expr                                           # binaryExpr
  | aggregateOp (groupingModifier callArguments | callArguments groupingModifier?)  # aggregateExpr
  | functionName callArguments                                          # callExpr
  | LEFT_PAREN expr RIGHT_PAREN                                         # parenExpr
  | vectorSelector                                                      # selectorExpr
  | (NUMBER | DURATION)                                                 # numberLiteral
  | STRING                                                              # stringLiteral
  ;

unaryOp
  : ADD
  | SUB
  ;

// Function and aggregation arguments. A trailing comma is accepted here and
// reported by the AST builder with Prometheus's message.
callArguments
  : LEFT_PAREN (expr (COMMA expr)* COMMA?)? RIGHT_PAREN
  ;

// start(), end(), step(), range(), min_of() and max_of() are lexed as
// keywords.
functionName
  : IDENTIFIER
  | START
  | END
  | STEP
  | RANGE
  | MIN_OF
  | MAX_OF
  ;

aggregateOp
  : SUM
  | AVG
  | COUNT
  | MIN
  | MAX
  | GROUP
  | STDDEV
  | STDVAR
  | TOPK
  | BOTTOMK
  | COUNT_VALUES
  | QUANTILE
  | LIMITK
  | LIMIT_RATIO
  ;

groupingModifier
  : (BY | WITHOUT) groupingLabels
  ;

groupingLabels
  : LEFT_PAREN (groupingLabel (COMMA groupingLabel)* COMMA?)? RIGHT_PAREN
  ;

// Inside grouping lists keywords are lexed as keywords but mean label names.
groupingLabel
  : labelKeyword
  | IDENTIFIER
  | METRIC_IDENTIFIER
  | STRING
  ;

binModifier
  : BOOL? (matchingModifier groupModifier?)? fillModifier?
  ;

matchingModifier
  : (ON | IGNORING) groupingLabels
  ;

groupModifier
  : (GROUP_LEFT | GROUP_RIGHT) groupingLabels?
  ;

// fill(v) fills both sides; fill_left and fill_right may be combined.
fillModifier
  : fillClause
  | fillLeftClause fillRightClause?
  | fillRightClause fillLeftClause?
  ;

fillClause
  : FILL LEFT_PAREN signedNumber RIGHT_PAREN
  ;

fillLeftClause
  : FILL_LEFT LEFT_PAREN signedNumber RIGHT_PAREN
  ;

fillRightClause
  : FILL_RIGHT LEFT_PAREN signedNumber RIGHT_PAREN
  ;

signedNumber
  : (ADD | SUB)? (NUMBER | DURATION)
  ;

atTimestamp
  : signedNumber
  | (START | END) LEFT_PAREN RIGHT_PAREN
  ;

// `offset` takes a signed atom: `x offset -2 ^ 2` is `(x offset -2) ^ 2`.
offsetDuration
  : (ADD | SUB)? durationAtom
  ;

durationExpr
  : <assoc = right> durationExpr POW durationExpr  # durationBinary
  | (ADD | SUB) durationExpr                       # durationUnary
  | durationExpr (MUL | DIV | MOD) durationExpr    # durationBinary
  | durationExpr (ADD | SUB) durationExpr          # durationBinary
  | durationAtom                                   # durationPrimary
  ;

durationAtom
  : (NUMBER | DURATION)                                                  # durationLiteral
  | (STEP | RANGE) LEFT_PAREN RIGHT_PAREN                                # durationKeyword
  | (MIN_OF | MAX_OF) LEFT_PAREN durationExpr COMMA durationExpr RIGHT_PAREN  # durationMinMax
  | LEFT_PAREN durationExpr RIGHT_PAREN                                  # durationParen
  ;

vectorSelector
  : metricIdentifier labelMatchers?
  | labelMatchers
  ;

labelMatchers
  : LEFT_BRACE (labelMatcher (COMMA labelMatcher)* COMMA?)? RIGHT_BRACE
  ;

// Inside braces every word is an IDENTIFIER (see token_source.cc).
labelMatcher
  : (IDENTIFIER | STRING) matchOp STRING  # labelMatch
  | STRING                                # quotedMetricName
  ;

matchOp
  : EQL
  | NEQ
  | EQL_REGEX
  | NEQ_REGEX
  ;

// Words that are metric names when they are not used as keywords.
metricIdentifier
  : IDENTIFIER
  | METRIC_IDENTIFIER
  | AVG
  | BOTTOMK
  | BY
  | COUNT
  | COUNT_VALUES
  | GROUP
  | LAND
  | LOR
  | LUNLESS
  | MAX
  | MIN
  | OFFSET
  | QUANTILE
  | STDDEV
  | STDVAR
  | SUM
  | TOPK
  | WITHOUT
  | START
  | END
  | LIMITK
  | LIMIT_RATIO
  | STEP
  | RANGE
  | ANCHORED
  | SMOOTHED
  | MIN_OF
  | MAX_OF
  ;

// Keywords that may name a label in a grouping list.
labelKeyword
  : AVG
  | BOOL
  | BOTTOMK
  | BY
  | COUNT
  | COUNT_VALUES
  | GROUP
  | GROUP_LEFT
  | GROUP_RIGHT
  | IGNORING
  | LAND
  | LOR
  | LUNLESS
  | MAX
  | MIN
  | OFFSET
  | ON
  | QUANTILE
  | STDDEV
  | STDVAR
  | SUM
  | TOPK
  | START
  | END
  | ATAN2
  | LIMITK
  | LIMIT_RATIO
  | STEP
  | RANGE
  | ANCHORED
  | SMOOTHED
  | WITHOUT
  | MIN_OF
  | MAX_OF
  ;

// ---------------------------------------------------------------------------
// Lexer rules. Keywords are case-insensitive; earlier rules win ties.
// ---------------------------------------------------------------------------

// Operators.
LAND: A N D;
LOR: O R;
LUNLESS: U N L E S S;
ATAN2: A T A N '2';

// Aggregators.
SUM: S U M;
AVG: A V G;
COUNT: C O U N T;
MIN: M I N;
MAX: M A X;
GROUP: G R O U P;
STDDEV: S T D D E V;
STDVAR: S T D V A R;
TOPK: T O P K;
BOTTOMK: B O T T O M K;
COUNT_VALUES: C O U N T '_' V A L U E S;
QUANTILE: Q U A N T I L E;
LIMITK: L I M I T K;
LIMIT_RATIO: L I M I T '_' R A T I O;

// Keywords.
OFFSET: O F F S E T;
SMOOTHED: S M O O T H E D;
ANCHORED: A N C H O R E D;
BY: B Y;
WITHOUT: W I T H O U T;
ON: O N;
IGNORING: I G N O R I N G;
GROUP_LEFT: G R O U P '_' L E F T;
GROUP_RIGHT: G R O U P '_' R I G H T;
FILL: F I L L;
FILL_LEFT: F I L L '_' L E F T;
FILL_RIGHT: F I L L '_' R I G H T;
BOOL: B O O L;

// Preprocessors and duration functions.
START: S T A R T;
END: E N D;
STEP: S T E P;
RANGE: R A N G E;
MIN_OF: M I N '_' O F;
MAX_OF: M A X '_' O F;

// Numbers: decimal with `_` digit separators, hexadecimal, Inf and NaN.
NUMBER
  : DIGITS ('.' DIGITS?)? EXPONENT?
  | '.' DIGITS EXPONENT?
  | '0' [xX] '_'? HEX_DIGIT ('_'? HEX_DIGIT)*
  | I N F
  | N A N
  ;

// 1h30m, 500ms, 2d, 1w, 1y.
DURATION: (DIGITS DURATION_UNIT)+;

// A digit-led word that is neither a number nor a duration; token_source.cc
// turns it into Prometheus's "bad number or duration syntax" error (or splits
// it where Prometheus's lexer would have stopped earlier).
MALFORMED_NUMBER: ('.'? [0-9]) [0-9a-zA-Z_.]*;

IDENTIFIER: [a-zA-Z_] [a-zA-Z0-9_]*;
// A lone ':' is COLON (a range/subquery separator inside brackets, a metric
// name elsewhere: token_source.cc decides).
COLON: ':';
METRIC_IDENTIFIER
  : [a-zA-Z_] [a-zA-Z0-9_]* ':' [a-zA-Z0-9_:]*
  | ':' [a-zA-Z0-9_:]+
  ;

STRING
  : '"' ('\\' . | ~["\\\n])* '"'
  | '\'' ('\\' . | ~['\\\n])* '\''
  | '`' ~'`'* '`'
  ;
UNTERMINATED_STRING
  : '"' ('\\' . | ~["\\\n])*
  | '\'' ('\\' . | ~['\\\n])*
  | '`' ~'`'*
  ;

LEFT_PAREN: '(';
RIGHT_PAREN: ')';
LEFT_BRACE: '{';
RIGHT_BRACE: '}';
LEFT_BRACKET: '[';
RIGHT_BRACKET: ']';
COMMA: ',';
AT: '@';

ADD: '+';
SUB: '-';
MUL: '*';
DIV: '/';
MOD: '%';
POW: '^';
EQLC: '==';
NEQ: '!=';
LTE: '<=';
LSS: '<';
GTE: '>=';
GTR: '>';
// Native-histogram trims: "</" keeps the part below, ">/" above.
TRIM_UPPER: '</';
TRIM_LOWER: '>/';
EQL: '=';
EQL_REGEX: '=~';
NEQ_REGEX: '!~';
BANG: '!';

COMMENT: '#' ~[\r\n]*;
WS: [ \t\r\n]+;

// Any other character; token_source.cc reports it.
UNEXPECTED_CHAR: .;

fragment DIGITS: [0-9] ('_'? [0-9])*;
fragment EXPONENT: [eE] [+-]? DIGITS;
fragment HEX_DIGIT: [0-9a-fA-F];
fragment DURATION_UNIT: 'ms' | [smhdwy];

fragment A: [aA];
fragment B: [bB];
fragment C: [cC];
fragment D: [dD];
fragment E: [eE];
fragment F: [fF];
fragment G: [gG];
fragment H: [hH];
fragment I: [iI];
fragment K: [kK];
fragment L: [lL];
fragment M: [mM];
fragment N: [nN];
fragment O: [oO];
fragment P: [pP];
fragment Q: [qQ];
fragment R: [rR];
fragment S: [sS];
fragment T: [tT];
fragment U: [uU];
fragment V: [vV];
fragment W: [wW];
fragment X: [xX];
fragment Y: [yY];
