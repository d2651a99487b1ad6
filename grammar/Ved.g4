// The grammar of Ved (../shared/spec/language.md §1–§12), both surface styles.
//
// Design notes:
// * Separators are optional (as in Lua): lists of statements, fields and goal items
//   accept `;`/`,`/newline or nothing between items, and an expression extends as far
//   as it can. Newlines are therefore plain whitespace.
// * Only the reserved words of §1 are keywords. Every other word the grammar needs
//   (`target`, `priority`, `step`, ...) is a token of its own but is also accepted by
//   the `ident` rule, so it stays usable as a name.
// * A few rules accept input that is wrong on purpose ("error productions"): a statement
//   at the top level, `=` in a condition, chained comparisons, `yield` in a nested
//   block. The AST builder turns them into precise V-SYN diagnostics instead of the
//   generic "unexpected token" the parser would otherwise produce.
// * The lexer never fails: characters it does not know, unterminated strings and
//   unterminated comments become tokens that the parser rejects with a clear message.
grammar Ved;

// Hand-written support for the generated parser (each header says why): every context
// derives from VedRuleContext (ved_parse_tree.h), which knows its depth and has a pooled
// allocator, and the parser from VedParserBase (ved_parser_base.h), ANTLR's Parser
// without run-time type tests on its hot paths.
options { contextSuperClass = VedRuleContext; superClass = VedParserBase; }

@parser::postinclude {
#include "ved_parse_tree.h"
#include "ved_parser_base.h"
}

// ---------------------------------------------------------------------------------
// Program structure (§2)

program : topItem* EOF ;

topItem
    : annotation* declaration        # annotatedDecl
    | statement                      # topLevelStatement   // error production
    | SEMI                           # topSeparator
    ;

declaration
    : domainDecl
    | fnDecl
    | typeDecl
    | effectDecl
    | observeDecl
    | authorityDecl
    | systemDecl
    | environmentDecl
    | deployDecl
    | migrationDecl
    | testDecl
    | importDecl
    | stateBlock          // script mode
    | goalDecl            // script mode
    | invariantDecl       // script mode
    | transitionDecl      // script mode
    ;

annotation
    : AT ident annotationArgs?
    ;

annotationArgs
    : LPAREN argList? RPAREN
    | scopeRef
    | ident LPAREN argList RPAREN      // `@privilege root(reason: "...")`
    | INT
    | STRING                           // accepted so that `@version "2"` gets a precise error
    ;

importDecl : IMPORT (STRING | qualifiedName) ;

// ---------------------------------------------------------------------------------
// Domains (§3)

domainDecl : DOMAIN ident LBRACE domainMember* RBRACE ;

domainMember
    : capabilityBlock
    | stateBlock
    | goalDecl
    | invariantDecl
    | annotation* transitionDecl
    | scopeMember
    | fnDecl
    | SEMI
    ;

scopeMember
    : SCOPE LBRACE scopeRef RBRACE
    | SCOPE scopeRef
    ;

scopeRef
    : ident (LPAREN STRING RPAREN)?
    | DOMAIN                     // corpus spelling `scope { domain }` = Root
    ;

capabilityBlock : CAPABILITY LBRACE (capabilityItem | COMMA | SEMI)* RBRACE ;

capabilityItem : ident (COLON ident)? ;

stateBlock : STATE LBRACE (fieldDecl | COMMA | SEMI)* RBRACE ;

fieldDecl : ident COLON type (ASSIGN expr)? ;

// ---------------------------------------------------------------------------------
// Goals and invariants (§4)

goalDecl : GOAL ident LBRACE goalItem* RBRACE ;

goalItem
    : (PREDICATE | TARGET) COLON? condition                        # goalPredicate
    | PRIORITY COLON? (INT | ident)                                # goalPriority
    | STRATEGY LBRACE (ident | COMMA)* RBRACE                      # goalStrategyBlock
    | STRATEGY COLON ident (COMMA ident)*                          # goalStrategyList
    | TERMINATE_AFTER COLON? (NEVER | INT (ATTEMPTS | TICKS))      # goalTerminateAfter
    | BACKOFF COLON? (NONE | ident (LPAREN argList? RPAREN)?)      # goalBackoff
    | (SEMI | COMMA)                                               # goalSeparator
    ;

invariantDecl : INVARIANT ident LBRACE condition RBRACE ;

// A boolean condition. `a = b` is accepted here only to say "did you mean `==`".
// Written with the optional tail (not as two alternatives `expr | expr = expr`) so that
// choosing needs no lookahead over the whole expression.
condition
    : expr (ASSIGN expr)?
    ;

// ---------------------------------------------------------------------------------
// Transitions and slices (§5)

transitionDecl
    : TRANSITION ident (LPAREN paramList? RPAREN)? (ON onClause)?
      LBRACE transitionHead* bodyItem* RBRACE
    ;

onClause
    : START
    | qualifiedName          // NS.Effect.ok / NS.Effect.failed
    ;

transitionHead
    : capabilityBlock
    | BUDGET COLON INT
    ;

bodyItem
    : SLICE ident block      # namedSlice       // `slice step { }` is a slice named step
    | STEP block             # stepSlice
    | statement              # bodyStatement
    ;

block : LBRACE statement* RBRACE ;

// ---------------------------------------------------------------------------------
// Statements

statement
    : LET ident (COLON type)? ASSIGN expr                                   # letStmt
    | ifStatement                                                           # ifStmt
    | WHILE condition block                                                 # whileStmt
    | FOR ident (COMMA ident)? IN expr (RANGE expr)? block                  # forStmt
    | sendStatement                                                         # sendStmt
    | REPLY ident LPAREN argList? RPAREN                                    # replyStmt
    | EMIT expr                                                             # emitStmt
    | SPAWN ident (LBRACK expr RBRACK)? (LBRACE fieldInit* RBRACE)?         # spawnStmt
    | SCHEDULE ident LPAREN argList? RPAREN AFTER expr TICKS                # scheduleStmt
    | YIELD                                                                 # yieldStmt
    | FAIL expr?                                                            # failStmt
    | ASSERT condition (COMMA expr)?                                        # assertStmt
    | RETURN expr?                                                          # returnStmt
    // Assignment and expression statement are one alternative, so that choosing needs no
    // lookahead over the whole expression; it comes last so that `send_high(...)` (whose
    // keyword is also a name) is a send, not a call.
    | expr (assignOp expr)?                                                 # exprOrAssignStmt
    | SEMI                                                                  # emptyStmt
    ;

assignOp : ASSIGN | PLUS_ASSIGN | MINUS_ASSIGN | STAR_ASSIGN ;

ifStatement : IF condition block (ELSE (ifStatement | block))? ;

sendStatement
    : (SEND | SEND_HIGH) LPAREN STRING COMMA STRING (COMMA argList)? RPAREN     # sendByName
    | SEND HIGH? ident (LBRACK expr RBRACK)? (DOT ident | ident) LPAREN argList? RPAREN  # sendTyped
    ;

fieldInit : ident (ASSIGN | COLON) expr (COMMA | SEMI)? ;

// ---------------------------------------------------------------------------------
// Functions, records, effects, observations (§5, §7, §8, §9)

fnDecl : FN ident LPAREN paramList? RPAREN (ARROW type)? block ;

typeDecl : TYPE ident LBRACE (fieldDecl | COMMA | SEMI)* RBRACE ;

effectDecl : EFFECT qualifiedName LPAREN paramList? RPAREN (ARROW type)? (COLON ident)? ;

observeDecl : OBSERVE qualifiedName LPAREN paramList? RPAREN (ARROW type)? ;

paramList : param (COMMA param)* COMMA? ;

param : ident COLON type ;

type
    : qualifiedName (AT INT)? (LT type (COMMA type)* GT)? QUESTION?
    ;

qualifiedName : ident (DOT ident)* ;

// ---------------------------------------------------------------------------------
// Authority (§6)

authorityDecl : AUTHORITY LBRACE scopeNode* RBRACE ;

scopeNode
    : ident (LPAREN STRING RPAREN)? (LBRACE scopeNode* RBRACE)?
    | COMMA
    | SEMI
    ;

// ---------------------------------------------------------------------------------
// Orchestration (§11), migrations (§10), tests (§12)

systemDecl : SYSTEM ident LBRACE systemItem* RBRACE ;

systemItem
    : START DOMAIN? ident (LBRACK expr RBRACK)? (LBRACE fieldInit* RBRACE)?
    | SEMI
    | COMMA
    ;

environmentDecl : ENVIRONMENT ident LBRACE environmentItem* RBRACE ;

environmentItem
    : scopeMember
    | capabilityBlock
    | ident (ASSIGN | COLON) expr
    | SEMI
    | COMMA
    ;

deployDecl : DEPLOY SERVICE? ident TO ident ;

migrationDecl : MIGRATION ident LBRACE migrationHead* statement* RBRACE ;

migrationHead
    : FROM COLON type
    | TO COLON type
    ;

testDecl : TEST STRING LBRACE testSection* RBRACE ;

testSection
    : GIVEN LBRACE givenItem* RBRACE          # givenSection
    | SIMULATE LBRACE simulateItem* RBRACE    # simulateSection
    | EXPECT LBRACE expectItem* RBRACE        # expectSection
    | SEMI                                    # testSeparator
    ;

givenItem
    : DOMAIN? ident (LBRACK expr RBRACK)? LBRACE fieldInit* RBRACE
    | SEMI
    ;

simulateItem
    : EFFECT qualifiedName LBRACE (FAIL expr | RETURN expr?) RBRACE   # simulateEffect
    | statement                                                      # simulateStatement
    ;

expectItem
    : ALWAYS condition        # expectAlways
    | EVENTUALLY condition    # expectEventually
    | condition               # expectFinal
    | SEMI                    # expectSeparator
    ;

// ---------------------------------------------------------------------------------
// Expressions. Precedence follows C; `??` binds looser than `+` and tighter than the
// comparisons (as in Swift). Comparisons parse left-associatively so that a chain can
// be reported (V-SYN-009) rather than rejected with a generic message.

expr
    : primary                                              # primaryExpr
    | expr DOT ident                                       # memberExpr
    | expr LBRACK expr RBRACK                              # indexExpr
    | expr LPAREN argList? RPAREN                          # callExpr
    | op=(MINUS | BANG | NOT) expr                         # unaryExpr
    | expr op=(STAR | SLASH | PERCENT) expr                # binaryExpr
    | expr op=(PLUS | MINUS) expr                          # binaryExpr
    | <assoc=right> expr op=COALESCE expr                  # binaryExpr
    | expr op=(LT | LE | GT | GE) expr                     # binaryExpr
    | expr op=(EQ | NE) expr                               # binaryExpr
    | expr op=(ANDAND | AND) expr                          # binaryExpr
    | expr op=(OROR | OR) expr                             # binaryExpr
    ;

primary
    : INT                                                  # intLiteral
    | FLOAT                                                # floatLiteral
    | STRING                                               # stringLiteral
    | (TRUE | FALSE)                                       # boolLiteral
    | NONE                                                 # noneLiteral
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK           # listLiteral
    | LBRACE (mapEntry (COMMA mapEntry)* COMMA?)? RBRACE   # mapLiteral
    | LPAREN expr RPAREN                                   # parenExpr
    | ident DOT ident AT INT                               # versionedTypeRef
    | STATE                                                # stateRef      // `state.field`
    | ident                                                # nameExpr
    ;

mapEntry : expr COLON expr ;

argList : arg (COMMA arg)* COMMA? ;

arg : (ident (COLON | ASSIGN))? expr ;

// Every contextual word is a name too.
ident
    : IDENT
    | TARGET | PREDICATE | PRIORITY | STRATEGY | STEP | SLICE | SCOPE | CAPABILITY
    | ON | START | AFTER | TICKS | ATTEMPTS | NEVER | HIGH | SEND_HIGH
    | TERMINATE_AFTER | BACKOFF | BUDGET | ALWAYS | EVENTUALLY | GIVEN | SIMULATE
    | EXPECT | SERVICE | TO | FROM
    ;

// ---------------------------------------------------------------------------------
// Lexer. Reserved words first (§1), then contextual words, then the rest.

DOMAIN      : 'domain' ;
STATE       : 'state' ;
GOAL        : 'goal' ;
INVARIANT   : 'invariant' ;
TRANSITION  : 'transition' ;
FN          : 'fn' ;
TYPE        : 'type' ;
EFFECT      : 'effect' ;
OBSERVE     : 'observe' ;
AUTHORITY   : 'authority' ;
SYSTEM      : 'system' ;
ENVIRONMENT : 'environment' ;
DEPLOY      : 'deploy' ;
MIGRATION   : 'migration' ;
TEST        : 'test' ;
IMPORT      : 'import' ;
LET         : 'let' ;
IF          : 'if' ;
ELSE        : 'else' ;
WHILE       : 'while' ;
FOR         : 'for' ;
IN          : 'in' ;
RETURN      : 'return' ;
YIELD       : 'yield' ;
FAIL        : 'fail' ;
ASSERT      : 'assert' ;
EMIT        : 'emit' ;
SEND        : 'send' ;
REPLY       : 'reply' ;
SPAWN       : 'spawn' ;
SCHEDULE    : 'schedule' ;
TRUE        : 'true' ;
FALSE       : 'false' ;
NONE        : 'none' ;
AND         : 'and' ;
OR          : 'or' ;
NOT         : 'not' ;

TARGET          : 'target' ;
PREDICATE       : 'predicate' ;
PRIORITY        : 'priority' ;
STRATEGY        : 'strategy' ;
STEP            : 'step' ;
SLICE           : 'slice' ;
SCOPE           : 'scope' ;
CAPABILITY      : 'capability' ;
ON              : 'on' ;
START           : 'start' ;
AFTER           : 'after' ;
TICKS           : 'ticks' ;
ATTEMPTS        : 'attempts' ;
NEVER           : 'never' ;
HIGH            : 'high' ;
SEND_HIGH       : 'send_high' ;
TERMINATE_AFTER : 'terminate_after' ;
BACKOFF         : 'backoff' ;
BUDGET          : 'budget' ;
ALWAYS          : 'always' ;
EVENTUALLY      : 'eventually' ;
GIVEN           : 'given' ;
SIMULATE        : 'simulate' ;
EXPECT          : 'expect' ;
SERVICE         : 'service' ;
TO              : 'to' ;
FROM            : 'from' ;

LBRACE : '{' ;
RBRACE : '}' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACK : '[' ;
RBRACK : ']' ;
COMMA  : ',' ;
SEMI   : ';' ;
COLON  : ':' ;
RANGE  : '..' ;
DOT    : '.' ;
AT     : '@' ;
ARROW  : '->' ;
QUESTION : '?' ;
COALESCE : '??' ;

PLUS_ASSIGN  : '+=' ;
MINUS_ASSIGN : '-=' ;
STAR_ASSIGN  : '*=' ;
EQ     : '==' ;
NE     : '!=' ;
LE     : '<=' ;
GE     : '>=' ;
LT     : '<' ;
GT     : '>' ;
ASSIGN : '=' ;
ANDAND : '&&' ;
OROR   : '||' ;
PLUS   : '+' ;
MINUS  : '-' ;
STAR   : '*' ;
SLASH  : '/' ;
PERCENT : '%' ;
BANG   : '!' ;

FLOAT
    : DIGITS '.' DIGITS EXPONENT?
    | DIGITS EXPONENT
    ;
INT
    : '0' [xX] [0-9a-fA-F_]+
    | DIGITS
    ;
fragment DIGITS   : [0-9] [0-9_]* ;
fragment EXPONENT : [eE] [+-]? [0-9]+ ;

STRING : '"' (ESCAPE | ~["\\\r\n])* '"' ;
fragment ESCAPE : '\\' . ;

IDENT : [a-zA-Z_] [a-zA-Z_0-9]* ;

LINE_COMMENT  : '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS            : [ \t\r\n\f\uFEFF]+ -> skip ;   // U+FEFF: a byte-order mark some editors write

// Error tokens: the parser rejects them with a message that names the problem.
UNTERMINATED_STRING  : '"' (ESCAPE | ~["\\\r\n])* ;
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;
UNKNOWN_CHAR         : . ;
